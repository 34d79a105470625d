"""What every ``nocert-rules`` command shares: exit codes, ``CliFailure``, the error-proof click
group, the console, loading a ruleset, ``--as-of`` and JSON printing (docs/cli.md).

Command modules import from here; ``main`` only assembles them, so imports flow one way
(main → commands → common).
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from nocert_rules.errors import CalendarError, NocertError, RequestError, RulesetError
from nocert_rules.privacy import mask_text, printable
from nocert_rules.tools.casefile import CaseFileError, parse_as_of, redact

EXIT_OK = 0
EXIT_FAIL = 1  # policy findings: mismatches, malformed rows, lint errors, forbidden materials, failed tests
EXIT_USAGE = 2  # bad usage, a file or ruleset that cannot be read
EXIT_INTERNAL = 3  # a bug: please report it

EXIT_CODES_HELP = (
    "\b\n退出码 / Exit codes:\n"
    "  0  成功 / OK\n"
    "  1  发现问题 / findings: expected-method mismatches or malformed rows (dry-run), lint errors,\n"
    "     forbidden materials (check-guide), failed tests (test), differences (diff --exit-code)\n"
    "  2  用法错误或文件、规则集无法读取 / usage error, or an unreadable file or ruleset\n"
    "  3  内部错误 / internal error (a bug; set NOCERT_DEBUG=1 for the traceback)"
)


class CliFailure(Exception):
    """An expected failure: print ``message`` and exit with ``code``; ``problems`` for --json."""

    def __init__(self, message: str, code: int = EXIT_USAGE, problems: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.problems = problems


def fail(message: str, code: int, *, as_json: bool = False, problems: list[dict[str, Any]] | None = None) -> NoReturn:
    """Report an error: text on stderr, or with ``--json`` one JSON object on stdout.

    Whatever the message quotes, ID-shaped runs are masked and control characters escaped; a
    message of several lines (every problem of a ruleset) keeps one problem per line.
    """
    if as_json:
        error: dict[str, Any] = {"exit_code": code, "message": mask_text(message)}
        if problems is not None:
            error["problems"] = [
                {k: mask_text(v) if isinstance(v, str) else v for k, v in q.items()} for q in problems
            ]
        click.echo(json.dumps({"error": error}, ensure_ascii=False, indent=2))
    else:
        text = "\n".join(printable(mask_text(line)) for line in message.split("\n"))
        click.echo(f"错误 / error: {text}", err=True)
    raise click.exceptions.Exit(code)


def wants_json(ctx: click.Context) -> bool:
    """Whether the command line (before ``--``) asks for ``--json``."""
    args = [*getattr(ctx, "_protected_args", []), *ctx.args]
    if "--" in args:
        args = args[: args.index("--")]
    return "--json" in args


class NocertGroup(click.Group):
    """A click group whose commands never end in a traceback (see ``EXIT_CODES_HELP``).

    With ``--json`` every error, usage errors included, is one JSON object on stdout:
    ``{"error": {"exit_code": …, "message": …, "problems": […]}}`` (problems for a ruleset error).
    """

    def invoke(self, ctx: click.Context) -> Any:
        as_json = wants_json(ctx)
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort):
            raise
        except click.exceptions.ClickException as exc:
            if not as_json:
                raise
            fail(exc.format_message(), exc.exit_code, as_json=True)
        except CliFailure as exc:
            fail(exc.message, exc.code, as_json=as_json, problems=exc.problems)
        except RulesetError as exc:
            fail(str(exc), EXIT_USAGE, as_json=as_json, problems=[q.to_dict() for q in exc.problems])
        except (CaseFileError, RequestError, CalendarError, NocertError) as exc:
            fail(str(exc), getattr(exc, "exit_code", EXIT_USAGE), as_json=as_json)
        except BrokenPipeError:
            sys.stderr.close()
            raise click.exceptions.Exit(EXIT_OK) from None
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            fail(f"{where}{exc.strerror or exc}", EXIT_USAGE, as_json=as_json)
        except KeyboardInterrupt:
            click.echo("已中断 / interrupted", err=True)
            raise click.exceptions.Exit(130) from None
        except Exception as exc:  # noqa: BLE001 - the last resort: one line, not a traceback
            if os.environ.get("NOCERT_DEBUG"):
                # the traceback, but through the same masking and escaping as every other output
                import traceback

                click.echo(printable(mask_text(traceback.format_exc()), keep_newlines=True), err=True)
                raise click.exceptions.Exit(EXIT_INTERNAL) from None
            text = redact(str(exc))  # never echo an ID number, even from a bug
            text = text if len(text) <= 500 else text[:499] + "…"
            fail(f"内部错误 / internal error: {type(exc).__name__}: {text} (NOCERT_DEBUG=1 shows the traceback)",
                  EXIT_INTERNAL, as_json=as_json)


def make_console(stderr: bool = False) -> Any:
    """A rich console: colour on a terminal, plain and 120 columns wide when piped."""
    from rich.console import Console

    console = Console(highlight=False, stderr=stderr)
    if not console.is_terminal:
        width = int(os.environ.get("COLUMNS") or 0) or 120
        console = Console(highlight=False, stderr=stderr, width=max(width, 80), no_color=True)
    return console


def open_ruleset(path: str) -> Any:
    """Load a ruleset; a RulesetError becomes one line naming the file inside the ruleset."""
    from nocert_rules.policy.ruleset import load_ruleset
    from nocert_rules.tools.lint import ruleset_problems

    if not Path(path).exists():
        raise CliFailure(f"{path}: 规则集不存在 / ruleset not found")
    try:
        return load_ruleset(path)
    except RulesetError as exc:
        problems = ruleset_problems(path, exc)
        if len(problems) == 1:
            text = str(problems[0])
        else:
            text = f"{len(problems)} 个问题 problems:\n" + "\n".join(f"  {q}" for q in problems)
        raise CliFailure(f"规则集错误 / ruleset error: {text}", problems=[q.to_dict() for q in problems]) from None


def as_of_moment(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_as_of(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--as-of") from None


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


AS_OF_HELP = ("申请时间 / requested_at for every case: a date (that day 10:00 Asia/Shanghai) or a full "
              "datetime (naive = Asia/Shanghai)")

_WEEKDAYS = ["一", "二", "三", "四", "五", "六", "日"]
_WEEKDAYS_EN = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def weekday(d: date) -> str:
    return f"星期{_WEEKDAYS[d.weekday()]} {_WEEKDAYS_EN[d.weekday()]}"
