"""``python -m nocert_rules`` runs the ``nocert-rules`` command line (see docs/cli.md)."""

from __future__ import annotations

from nocert_rules.cli.main import main

if __name__ == "__main__":
    main(prog_name="nocert-rules")
