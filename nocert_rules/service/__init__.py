"""The HTTP decision service (``nocert-rules serve``): a policy decision point for host systems.

``create_app(config)`` builds the ASGI application (FastAPI); ``server.serve(config)`` runs it on
uvicorn. Needs the optional extra ``pip install 'nocert-rules[serve]'``. See docs/service.md.
"""

from __future__ import annotations

MISSING_EXTRA = (
    "服务需要可选依赖 / the service needs the optional extra: pip install 'nocert-rules[serve]' "
    "(fastapi, uvicorn, httptools, prometheus-client)"
)
