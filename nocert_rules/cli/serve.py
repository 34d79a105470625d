"""``nocert-rules serve``: the decision service over HTTP (``nocert_rules.service``, docs/service.md)."""

from __future__ import annotations

import click

from nocert_rules.service.config import (
    CPU_AFFINITY,
    DEFAULT_BODY_TIMEOUT,
    DEFAULT_COMMIT_DELAY,
    DEFAULT_COMMIT_MAX,
    DEFAULT_HEADER_TIMEOUT,
    DEFAULT_MAX_BATCH,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_HEADER_BYTES,
    DEFAULT_WRITE_TIMEOUT,
)

EPILOG = (
    "\b\n例 / Example:\n"
    "  nocert-rules serve rulesets/zibo --port 8080\n"
    "  curl -s localhost:8080/v1/decide -H 'content-type: application/json' -d @examples/requests/pledge.json\n"
    "\b\n退出码 / Exit codes: 0 stopped; 2 the ruleset does not load or lint clean, a bad option,\n"
    "  or a refused bind (beyond localhost without --token-file or --insecure)"
)


@click.command("serve", epilog=EPILOG)
@click.argument("ruleset", metavar="RULESET")
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址 / address to bind")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="端口 / port")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="工作进程数 / worker processes")
@click.option("--token-file", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
              help="持有者令牌文件 / a file holding the bearer token every /v1 and /metrics call must send")
@click.option("--insecure", is_flag=True,
              help="允许无令牌监听非本机地址 / allow binding beyond localhost without a token")
@click.option("--decision-log", type=click.Path(dir_okay=False), metavar="FILE",
              help="决定日志（每个决定一行 JSON，个人信息已遮蔽；无 --key-file 时不认证）/ decision log: one JSON line per "
                   "decision (not authenticated without --key-file)")
@click.option("--key-file", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
              help="主机密钥文件：决定日志成为审计日志（逐条 HMAC-SHA256，audit verify 可校验）/ the host key file: the "
                   "decision log becomes an audit log (HMAC-SHA256 per entry, checked by `audit verify`)")
@click.option("--previous-key-file", "previous_key_files", multiple=True,
              type=click.Path(exists=True, dir_okay=False), metavar="FILE",
              help="轮换前的主机密钥（可多次）/ a host key before a rotation (repeatable)")
@click.option("--head-file", type=click.Path(dir_okay=False), metavar="FILE",
              help="审计日志的链头检查点 / the audit log's head checkpoint (AuditLog head_file)")
@click.option("--max-batch", default=DEFAULT_MAX_BATCH, show_default=True, type=click.IntRange(1, 100_000),
              help="批量接口每批最多请求数 / most requests in one batch (more: 413)")
@click.option("--max-body-bytes", default=DEFAULT_MAX_BODY_BYTES, show_default=True,
              type=click.IntRange(1024, 1 << 30), help="请求体上限 / largest request body (more: 413)")
@click.option("--backend", type=click.Choice(["auto", "durable", "compiled"]), default="auto", show_default=True,
              help="规则匹配后端 / the engine's rule backend (GET /v1/ruleset names the one in use)")
@click.option("--header-timeout", default=DEFAULT_HEADER_TIMEOUT, show_default=True, type=click.FloatRange(0.1, 3600),
              help="请求头须在此秒数内收齐，否则断开 / seconds a request's headers may take; then the connection is closed")
@click.option("--body-timeout", default=DEFAULT_BODY_TIMEOUT, show_default=True, type=click.FloatRange(0.1, 3600),
              help="请求体须在请求头后此秒数内收齐 / seconds a request's body may take after its headers")
@click.option("--write-timeout", default=DEFAULT_WRITE_TIMEOUT, show_default=True, type=click.FloatRange(0.1, 3600),
              help="客户端在此秒数内未读取应答（发送缓冲已满）即断开 / seconds an answer may wait for the client "
                   "to read it (the send buffer full); then the connection is dropped")
@click.option("--max-connections", default=DEFAULT_MAX_CONNECTIONS, show_default=True, type=click.IntRange(1, 1_000_000),
              help="每进程最多连接数，超出即关闭 / open connections per process; one more is closed at once")
@click.option("--max-header-bytes", default=DEFAULT_MAX_HEADER_BYTES, show_default=True,
              type=click.IntRange(1024, 16 * 1024 * 1024),
              help="请求头（及分块请求体的尾部字段）上限，超出回 400 并断开 / largest request headers (and a chunked "
                   "body's trailers); more: 400 and the connection closed")
@click.option("--commit-delay", default=DEFAULT_COMMIT_DELAY, show_default=True, type=click.FloatRange(0, 1),
              help="决定日志成组提交前等待更多条目的秒数 / seconds the decision log waits for more entries before one fsync")
@click.option("--commit-max", default=DEFAULT_COMMIT_MAX, show_default=True, type=click.IntRange(1, 1_000_000),
              help="一次 fsync 最多提交的决定日志条目（1：每个决定一次）/ most entries per fsync (1: one per decision)")
@click.option("--cpu-affinity", type=click.Choice(CPU_AFFINITY), default="auto", show_default=True,
              help="auto：每个服务进程固定在一个空闲 CPU 上；off：由内核调度 / auto: each serving process "
                   "pinned to a free CPU of its own (docs/service.md); off: left to the kernel")
def serve(ruleset: str, host: str, port: int, workers: int, token_file: str | None, insecure: bool,
          decision_log: str | None, key_file: str | None, previous_key_files: tuple[str, ...],
          head_file: str | None, max_batch: int, max_body_bytes: int, backend: str, header_timeout: float,
          body_timeout: float, write_timeout: float, max_connections: int, max_header_bytes: int,
          commit_delay: float,
          commit_max: int, cpu_affinity: str) -> None:
    """以 HTTP 提供决定服务 / Serve decisions over HTTP: POST /v1/decide, /v1/decide/batch,
    GET /v1/ruleset, /v1/explain/{id}, /healthz, /readyz, /metrics, /openapi.json.

    SIGHUP 或 POST /v1/admin/reload 重新加载规则集（通过加载和检查才替换）/ SIGHUP or
    POST /v1/admin/reload reloads the ruleset; it is swapped in only if it loads and lints clean.
    """
    from pathlib import Path

    from nocert_rules.cli.common import CliFailure
    from nocert_rules.errors import NocertError
    from nocert_rules.service.config import ServeConfig
    from nocert_rules.service.server import ServeRefused
    from nocert_rules.service.server import serve as run
    from nocert_rules.service.state import ReloadRefused

    if not Path(ruleset).exists():
        raise CliFailure(f"{ruleset}: 规则集不存在 / ruleset not found")
    config = ServeConfig(ruleset=ruleset, host=host, port=port, workers=workers, token_file=token_file,
                         insecure=insecure, decision_log=decision_log, key_file=key_file,
                         previous_key_files=tuple(previous_key_files), head_file=head_file,
                         max_batch=max_batch, max_body_bytes=max_body_bytes, backend=backend,
                         header_timeout=header_timeout, body_timeout=body_timeout, write_timeout=write_timeout,
                         max_connections=max_connections, max_header_bytes=max_header_bytes,
                         commit_delay=commit_delay,
                         commit_max=commit_max, cpu_affinity=cpu_affinity)
    if (key_file or previous_key_files or head_file) and not decision_log:
        raise CliFailure("--key-file/--previous-key-file/--head-file 需要 --decision-log / need --decision-log")
    try:
        config.read_token()
        log = config.open_decision_log()  # a bad key or a tampered tail is refused before serving
        if log is not None:
            log.close()
        run(config)
    except ServeRefused as exc:
        raise CliFailure(str(exc)) from None
    except ReloadRefused as exc:
        raise CliFailure("规则集不能提供服务 / the ruleset cannot be served: " + "; ".join(exc.problems)) from None
    except ImportError as exc:
        raise CliFailure(str(exc)) from None
    except (ValueError, OSError, NocertError) as exc:
        raise CliFailure(str(exc)) from None
