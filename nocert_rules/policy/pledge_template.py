"""The ruleset's 告知承诺书 template (三(三)2): placeholders, checking and loading.

Checked when the ruleset loads (file:line errors); rendered by :mod:`nocert_rules.records.pledge`.
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nocert_rules.errors import RulesetError
from nocert_rules.policy.files import RulesetFolder

if TYPE_CHECKING:
    from nocert_rules.policy.loaded import Ruleset

DEFAULT_TEMPLATE = "templates/pledge.md"

PLACEHOLDERS: dict[str, str] = {
    "jurisdiction": "规则集适用地区 / the ruleset's jurisdiction",
    "ruleset_name": "规则集名称 / ruleset name",
    "ruleset_version": "规则集版本 / ruleset version",
    "request_id": "办件编号 / case id (— when unknown)",
    "service_item": "事项编码 / service item code",
    "service_item_name": "事项名称 / service item name",
    "certificate_id": "证明编号 / certificate id",
    "certificate_name": "证明名称 / certificate name",
    "legal_basis": "设定依据 / legal basis",
    "issuer": "原出具单位 / issuing unit",
    "content": "证明内容 / the content to be proved",
    "post_check": "核查安排 / the post-check plan",
    "post_check_due": "核查期限或免予核查 / post-check due time, or waived",
    "applicant_name_masked": "承诺人姓名（遮蔽） / the pledgor's name, masked",
    "applicant_id_masked": "证件号码（遮蔽） / the pledgor's ID number, masked",
    "date": "日期 / date of the decision",
}
"""Every placeholder a pledge template may use. Personal data only ever masked."""

REQUIRED_PLACEHOLDERS: frozenset[str] = frozenset({"certificate_name", "content", "post_check"})
"""三(三)2: the pledge names the certificate, the content to be proved and the post-check."""


# ---------------------------------------------------------------- the template


@dataclass(frozen=True)
class PledgeTemplate:
    """A validated pledge template: its file name in the ruleset, text and sha256."""

    name: str
    text: str
    sha256: str

    def render(self, values: dict[str, str]) -> str:
        return string.Template(self.text).substitute(values)


def _line_at(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _check_template(name: str, text: str) -> None:
    tpl = string.Template(text)
    for match in tpl.pattern.finditer(text):
        line = _line_at(text, match.start())
        if match.group("invalid") is not None:
            raise RulesetError(
                name, line, None, "非法的 $ 用法（用 $$ 表示 $） / malformed '$' placeholder (write $$ for $)"
            )
        ident = match.group("named") or match.group("braced")
        if ident is not None and ident not in PLACEHOLDERS:
            raise RulesetError(
                name,
                line,
                None,
                f"未知占位符 ${ident} / unknown placeholder ${ident}; known: "
                f"{', '.join(sorted(PLACEHOLDERS))}",
            )
    missing = sorted(REQUIRED_PLACEHOLDERS.difference(tpl.get_identifiers()))
    if missing:
        raise RulesetError(
            name,
            None,
            None,
            f"缺少必需占位符 / missing required placeholders: {', '.join('$' + m for m in missing)} "
            "（承诺书须写明证明事项、证明内容和核查安排 / a pledge names the certificate, the content "
            "and the post-check）",
        )


def load_pledge_template(ruleset: Ruleset) -> PledgeTemplate:
    """The ruleset's pledge template, validated; raises ``RulesetError`` with file:line.

    Reads the bytes the ruleset hashed (``ruleset.files``) when the manifest names the template,
    else ``templates/pledge.md`` in the ruleset folder.
    """
    name = ruleset.manifest.files.pledge_template or DEFAULT_TEMPLATE
    data = ruleset.files.get(name)
    if data is None:
        try:
            data = RulesetFolder(ruleset.directory).read(name)  # inside the folder, as at load
        except RulesetError as exc:
            raise RulesetError(name, None, None, f"无法读取告知承诺书模板 / cannot read the pledge template: {exc.problem}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RulesetError(name, None, None, f"not UTF-8 text: {exc}") from None
    _check_template(name, text)
    return PledgeTemplate(name=name, text=text, sha256=hashlib.sha256(data).hexdigest())


