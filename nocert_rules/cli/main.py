"""The ``nocert-rules`` command line (also ``python -m nocert_rules``). See docs/cli.md.

Output is rich (tables, colour) on a terminal and plain text when piped; ``--json`` gives
machine-readable output. Errors go to stderr (a ruleset error lists every problem, one per line), never a
traceback; with ``--json`` an error is one JSON object on stdout (``{"error": {...}}``).

This module only assembles the group: each command lives in its own module (docs/ARCHITECTURE.md
lists them), and what they share is in :mod:`nocert_rules.cli.common`.
"""

from __future__ import annotations

import click

from nocert_rules.cli.accountability import accountability
from nocert_rules.cli.audit import audit
from nocert_rules.cli.common import EXIT_CODES_HELP, NocertGroup
from nocert_rules.cli.credit import credit_record_command
from nocert_rules.cli.decide import decide
from nocert_rules.cli.diff import diff
from nocert_rules.cli.dryrun import dry_run
from nocert_rules.cli.exemption import exemption, review
from nocert_rules.cli.guide import check_guide
from nocert_rules.cli.init import init_command
from nocert_rules.cli.lint import info, lint
from nocert_rules.cli.listio import export_list_command, import_list_command
from nocert_rules.cli.publication import publication
from nocert_rules.cli.ruletest import test_command
from nocert_rules.cli.serve import serve
from nocert_rules.cli.vectors import export_vectors_command
from nocert_rules.cli.workcal import calendar_group


@click.group(cls=NocertGroup, epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nocert-rules", prog_name="nocert-rules")
def main() -> None:
    """nocert-rules：“无证明城市”证明事项免提交规则引擎 / rules engine for no-certificate cities.

    每个命令的 --help 有详细说明 / see each command's --help; docs/cli.md has the full manual.
    """


COMMANDS: tuple[click.Command, ...] = (
    decide, dry_run, lint, info, diff, check_guide, accountability, calendar_group, init_command, test_command,
    audit, serve, import_list_command, export_list_command, export_vectors_command, publication,
    credit_record_command, exemption, review,
)
for _command in COMMANDS:
    main.add_command(_command)

if __name__ == "__main__":  # pragma: no cover
    main()
