"""Running the service on uvicorn: the bind check, one process or ``--workers N``.

One process: SIGHUP reloads the ruleset in place (``state.RulesetHolder.reload``). Several
workers: uvicorn's supervisor answers SIGHUP by starting a replacement for each worker and
retiring the old one only once the new one serves; a worker whose ruleset does not load or lint
clean never starts, and the old workers keep serving. In-flight requests finish either way.
"""

from __future__ import annotations

import os

from nocert_rules.service import MISSING_EXTRA
from nocert_rules.service.config import CONFIG_ENV, ServeConfig, is_loopback


class ServeRefused(Exception):
    """The service will not start as asked (the message says why and what to do)."""


def check_bind(config: ServeConfig) -> None:
    """Beyond localhost only with a bearer token, or with ``--insecure`` said out loud."""
    if not is_loopback(config.host) and config.token_file is None and not config.insecure:
        raise ServeRefused(
            f"拒绝在 {config.host} 上无令牌提供服务 / refusing to serve on {config.host} without "
            "authentication: give --token-file FILE, or --insecure if a gateway in front authenticates"
        )
    if config.workers < 1:
        raise ServeRefused("--workers 至少为 1 / --workers must be at least 1")


def serve(config: ServeConfig) -> None:
    """Start uvicorn and serve until interrupted (SIGINT/SIGTERM end it gracefully)."""
    check_bind(config)
    try:
        import httptools  # noqa: F401 - the HTTP parser (guard.protocol_class)
        import uvicorn
    except ImportError:
        raise ServeRefused(MISSING_EXTRA) from None
    common = {"host": config.host, "port": config.port, "access_log": False, "log_level": "info",
              "timeout_graceful_shutdown": 30}
    if config.workers == 1:
        from nocert_rules.service.app import create_app
        from nocert_rules.service.guard import protocol_class

        app = create_app(config, handle_sighup=True, serving=True)  # loads (and lints) the ruleset before binding
        uvicorn.run(app, http=protocol_class(config.limits()), **common)
        return
    from nocert_rules.service.state import load_checked

    load_checked(config.ruleset, config.backend)  # fail here, once, rather than in every worker
    os.environ[CONFIG_ENV] = config.to_json()
    uvicorn.run("nocert_rules.service.app:app_from_environment", factory=True, workers=config.workers,
                http="nocert_rules.service.guard:EnvironmentProtocol", **common)
