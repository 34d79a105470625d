#!/bin/sh
# Ask a running `nocert-rules serve` for one decision.
#   examples/clients/decide.sh [REQUEST.json]        (default: examples/requests/pledge.json)
# NOCERT_URL (default http://127.0.0.1:8080) and NOCERT_TOKEN (the bearer token, if the server has one).
# Prints the Decision JSON; exits non-zero on an error (the problem document is printed too).
set -eu
request="${1:-examples/requests/pledge.json}"
url="${NOCERT_URL:-http://127.0.0.1:8080}"
if [ -n "${NOCERT_TOKEN:-}" ]; then
  exec curl -sS --fail-with-body -H "Authorization: Bearer ${NOCERT_TOKEN}" \
    -H 'Content-Type: application/json' --data-binary "@${request}" "${url}/v1/decide"
fi
exec curl -sS --fail-with-body -H 'Content-Type: application/json' --data-binary "@${request}" "${url}/v1/decide"
