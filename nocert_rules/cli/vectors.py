"""``nocert-rules export-vectors``: conformance vectors for host systems (``nocert_rules.tools.vectors``,
docs/vectors.md)."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("export-vectors")
@click.argument("ruleset", metavar="RULESET")
@click.option("--out", "out", metavar="vectors.json", type=click.Path(dir_okay=False),
              help="写出的向量文件 / the vectors file to write")
@click.option("--check", "check", metavar="vectors.json", type=click.Path(exists=True, dir_okay=False),
              help="改为重新决定该文件的每个向量并比较 / instead, decide every vector of this file again and compare")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出 / print the result as JSON")
def export_vectors_command(ruleset: str, out: str | None, check: str | None, as_json: bool) -> None:
    """导出一致性测试向量 / Export conformance vectors: every YAML test case, one request per list
    row and, for each rule, a request in which it fires, each with the expected method, fired and
    blocked rules and deadline. A host that re-implements or caches decisions proves it agrees.
    Exit 1 when a YAML test case fails (nothing written) or, with --check, when a vector disagrees.

    \b
    例 / Example:
      nocert-rules export-vectors rulesets/zibo --out vectors.json
      nocert-rules export-vectors rulesets/zibo --check vectors.json
    """
    from nocert_rules.cli.common import CliFailure, open_ruleset
    from nocert_rules.engine.core import Engine
    from nocert_rules.tools.vectors import VectorError, check_vectors, export_vectors, write_vectors

    if (out is None) == (check is None):
        raise CliFailure("请给出 --out 或 --check 之一 / give exactly one of --out, --check")
    rs = open_ruleset(ruleset)
    with Engine(rs) as engine:
        if check is not None:
            try:
                document = json.loads(Path(check).read_text(encoding="utf-8"))
                vectors = document["vectors"]
            except (ValueError, KeyError, TypeError):
                raise CliFailure(f"{check}: 不是向量文件 / not a vectors file") from None
            problems = check_vectors(engine, document)
            stamp = document.get("ruleset", {})
            other_version = stamp.get("sha256") not in (None, rs.sha256)
            failed = len({vector_id for vector_id, _ in problems})
            if as_json:
                click.echo(json.dumps({"passed": len(vectors) - failed, "failed": failed,
                                       "same_version": not other_version,
                                       "problems": [{"id": i, "problem": p} for i, p in problems]},
                                      ensure_ascii=False, indent=2))
            else:
                for vector_id, problem in problems:
                    click.echo(f"{vector_id}: {problem}", err=True)
                if other_version:
                    click.echo(f"提示 / note: the vectors were made for {stamp.get('name')} {stamp.get('version')} "
                               f"(sha256 {str(stamp.get('sha256'))[:12]}…), not this version", err=True)
                click.echo(f"{len(vectors) - failed} passed, {failed} failed")
            if problems:
                raise click.exceptions.Exit(1)
            return
        out_path = Path(str(out))
        if not out_path.parent.is_dir():
            raise CliFailure(f"{out_path.parent}: 目录不存在 / no such directory")
        try:
            document = export_vectors(rs, engine)
        except VectorError as exc:
            click.echo(f"错误 / error: {exc}", err=True)
            raise click.exceptions.Exit(1) from None
    write_vectors(document, out_path)
    counts = document["counts"]
    if as_json:
        click.echo(json.dumps({"vectors": len(document["vectors"]), "counts": counts, "out": str(out_path),
                               "uncovered_rules": document["uncovered_rules"]}, ensure_ascii=False))
        return
    click.echo(f"已导出 {len(document['vectors'])} 个向量 / exported {len(document['vectors'])} vectors "
               f"({counts['test']} test cases, {counts['row']} rows, {counts['rule']} for rules) -> {out_path}")
    if document["uncovered_rules"]:
        click.echo(f"提示 / note: no request made these rules fire: {', '.join(document['uncovered_rules'])}", err=True)
