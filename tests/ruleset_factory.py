"""Writes small, self-contained rulesets for tests (independent of the bundled Zibo one)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from nocert_rules.tools.init import skeleton_text

SKELETON_WORDING: dict[str, Any] = yaml.safe_load(skeleton_text("manifest.yaml"))["deadlines"]["wording"]
"""The deadline wording of ``nocert-rules init``'s skeleton (tiny has none: the library's default)."""

MANIFEST: dict[str, Any] = {
    "name": "tiny",
    "title": "测试用小规则集",
    "version": "t1",
    "jurisdiction": "测试市",
    "effective_from": "2024-01-01",
    "effective_until": "2030-12-31",
    "sources": [
        {"id": "plan", "title": "测试方案", "issuer": "测试市政府", "date": "2024-01-01"},
    ],
    "method_order": ["ABOLISH", "APPLICANT_PROVIDED", "DATA_SHARING", "PLEDGE", "VERIFICATION", "PROXY"],
    "method_order_clause": "C-order",
    "fallback": {
        "method": "APPLICANT_PROVIDED",
        "applicant_must_submit": True,
        "reason": "申请人自行提供 / applicant provides",
        "clause": "C-proxy",
    },
    "pledge_policy": {
        "risk_categories": {"health": "人身健康", "low": "低"},
        "barring_risk_categories": ["health"],
        "barring_clause": "C-risk",
        "post_check": {
            "trustworthy": {"waived": True, "description": "免核查", "clause": "C-pledge"},
            "normal": {"waived": False, "within_working_days": 10, "description": "10日内核查", "clause": "C-pledge"},
            "untrustworthy": {"waived": False, "within_working_days": 3, "description": "3日内", "clause": "C-pledge"},
        },
    },
    "deadlines": {
        "verification": {
            "electronic": {"working_minutes": 30},
            "paper": {"working_days": 1},
            "incomplete_archive": {"working_days": 2},
        },
        "verification_clause": "C-verify",
        "complaint_working_days": 5,
        "complaint_max_extension_days": 5,
        "complaint_clause": "C-order",
        "adjustment_working_days": 7,
        "adjustment_clause": "C-order",
        "publication_month_days": ["06-30", "12-31"],
        "publication_clause": "C-order",
    },
}

CLAUSES = [
    ("C-order", "方式按便民原则排序。"),
    ("C-abolish", "无设定依据的证明一律取消。"),
    ("C-provided", "申请人愿意提供的，不得拒绝。"),
    ("C-share", "能共享的证明通过共享获取。"),
    ("C-pledge", "可以承诺的证明实行告知承诺。"),
    ("C-risk", "高风险证明不适用承诺。"),
    ("C-credit", "失信者不适用承诺。"),
    ("C-verify", "出具单位协查核验。"),
    ("C-proxy", "代办须经授权。"),
]

RULES: list[dict[str, Any]] = [
    {"id": "a.unlisted", "method": "ABOLISH", "effect": "offer", "when": {"request.listed": False}, "clause": "C-abolish", "reason": "不在清单"},
    {"id": "a.no-basis", "method": "ABOLISH", "effect": "offer", "when": {"request.listed": True, "row.has_legal_basis": False}, "clause": "C-abolish", "reason": "无依据"},
    {"id": "a.abolished", "method": "ABOLISH", "effect": "offer", "when": {"row.status": "abolished"}, "clause": "C-abolish", "reason": "已取消"},
    {"id": "p.offers", "method": "APPLICANT_PROVIDED", "effect": "offer", "when": {"request.provides_certificate": True, "row.status": "retained", "row.has_legal_basis": True}, "clause": "C-provided", "reason": "自行提供"},
    {"id": "s.allowed", "method": "DATA_SHARING", "effect": "offer", "when": {"row.allows_data_sharing": True, "row.status": "retained", "row.has_legal_basis": True}, "clause": "C-share", "reason": "可共享"},
    {"id": "s.offline", "method": "DATA_SHARING", "effect": "block", "when": {"request.sharing_online": False}, "clause": "C-share", "reason": "共享离线"},
    {"id": "g.allowed", "method": "PLEDGE", "effect": "offer", "when": {"row.allows_pledge": True, "row.status": "retained", "row.has_legal_basis": True}, "clause": "C-pledge", "reason": "可承诺"},
    {"id": "g.risk", "method": "PLEDGE", "effect": "block", "when": {"row.pledge_barring_risk": True}, "clause": "C-risk", "reason": "高风险"},
    {"id": "g.declines", "method": "PLEDGE", "effect": "block", "when": {"request.wants_pledge": False}, "clause": "C-pledge", "reason": "不愿承诺"},
    {"id": "g.bad-credit", "method": "PLEDGE", "effect": "block", "when": {"any": [{"applicant.on_blacklist": True}, {"applicant.serious_bad_record": True}, {"applicant.credit": "untrustworthy"}]}, "clause": "C-credit", "reason": "信用不良"},
    {"id": "v.allowed", "method": "VERIFICATION", "effect": "offer", "when": {"row.allows_verification": True, "row.status": "retained", "row.has_legal_basis": True}, "clause": "C-verify", "reason": "可核验"},
    {"id": "x.retained", "method": "PROXY", "effect": "offer", "when": {"row.status": "retained", "row.has_legal_basis": True}, "clause": "C-proxy", "reason": "代办"},
    {"id": "x.no-auth", "method": "PROXY", "effect": "block", "when": {"request.proxy_authorized": False}, "clause": "C-proxy", "reason": "未授权"},
]


def row(item: str, cert: str, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "service_item_code": item,
        "service_item_name": f"事项{item}",
        "certificate_id": cert,
        "certificate_name": f"证明{cert}",
        "legal_basis": "《测试条例》第一条",
        "issuer": "测试局",
        "issuer_department": "test",
        "methods": [],
        "records": "electronic",
        "risk_categories": [],
        "status": "retained",
    }
    base.update(fields)
    return base


ROWS: list[dict[str, Any]] = [
    row("S1", "share", methods=["data_sharing", "pledge", "verification"], sharing_source="库"),
    row("S1", "pledge", methods=["pledge", "verification"]),
    row("S1", "risky", methods=["pledge", "verification"], risk_categories=["health"], records="paper"),
    row("S1", "verify", methods=["verification"], records="incomplete_archive"),
    row("S1", "proxy-only", methods=[]),
    row("S1", "no-basis", legal_basis=None, methods=["verification"]),
    row("S1", "gone", status="abolished", methods=["verification"]),
]


def write_ruleset(
    directory: Path,
    *,
    rows: list[dict[str, Any]] | None = None,
    rules: list[dict[str, Any]] | None = None,
    manifest: dict[str, Any] | None = None,
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    dump = lambda obj: yaml.safe_dump(obj, allow_unicode=True, sort_keys=False)  # noqa: E731
    (directory / "manifest.yaml").write_text(dump(manifest or MANIFEST), encoding="utf-8")
    (directory / "certificates.yaml").write_text(dump({"rows": rows if rows is not None else ROWS}), encoding="utf-8")
    (directory / "rules.yaml").write_text(dump({"rules": rules or RULES}), encoding="utf-8")
    clauses = [{"id": cid, "source": "plan", "text": text} for cid, text in CLAUSES]
    (directory / "clauses.yaml").write_text(dump({"clauses": clauses}), encoding="utf-8")
    # rows that allow pledges need a template (templates/pledge.md, found by its usual name)
    (directory / "templates").mkdir(exist_ok=True)
    (directory / "templates" / "pledge.md").write_text(TEMPLATE, encoding="utf-8")
    return directory


TEMPLATE = "# 告知承诺书\n\n$certificate_name：$content\n\n核查：$post_check\n"


# ---------------------------------------------------------------- a newcomer's district ruleset

NEWCOMER_OFFICE = "青湖区营商环境建设办公室"
NEWCOMER_CLAUSES = [
    ("第二条", "方式按便民、高效原则排序。"),
    ("第三条", "没有设定依据的证明一律取消。"),
    ("第四条", "申请人能够提供也愿意提供的，不得拒绝，并做好记录。"),
    ("第五条", "能通过数据共享获取的证明，通过共享获取。"),
    ("第六条", "风险可控的证明实行告知承诺，承诺人信用状况决定核查方式。"),
    ("第七条", "涉及人身健康的证明不适用告知承诺。"),
    ("第八条", "失信者和作出虚假承诺者不适用告知承诺，列入虚假承诺名单。"),
    ("第十条", "出具单位收到核验申请后，电子档案 20 分钟内、纸质档案 2 个工作日内、档案不全 3 个工作日内反馈；不属本单位职责的，退回并说明理由。"),
    ("第十一条", "核验信息与申请人填报不符的，可要求补充材料，并记台账。"),
    ("第十二条", "逾期未反馈的，报区营商环境建设办公室督办。"),
    ("第十三条", "核验信息不得用于其他事项。"),
    ("第十四条", "干部代办须经申请人授权。"),
    ("第二十条", "投诉登记后 3 个工作日内办结，可延期一次，最长 2 个工作日。"),
    ("第二十一条", "投诉不具体且无法核实的，不予受理；投诉人撤回的，终止办理。"),
    ("第二十二条", "投诉应当登记。"),
    ("第三十条", "清单调整事由发生之日起 5 个工作日内向区司法局提出申请。"),
    ("第三十一条", "因法律修订需要调整清单的，申请调整。"),
    ("第三十二条", "清单每季度公布一次。"),
]

NEWCOMER_MANIFEST = """\
# 青湖区证明事项免提交规则 (a fictional district, written from the docs)
name: qinghu
title: 青湖区证明事项免提交规则
version: "2025.1"
jurisdiction: 青湖区
effective_from: 2025-01-01
sources:
  - {id: qinghu-rules, title: 青湖区证明事项告知承诺和核验办法, issuer: 青湖区人民政府, date: 2025-01-01}
method_order: [ABOLISH, APPLICANT_PROVIDED, DATA_SHARING, PLEDGE, VERIFICATION, PROXY]
method_order_clause: 第二条
fallback:
  method: APPLICANT_PROVIDED
  applicant_must_submit: true
  reason: "无其他方式，由申请人提供 / no other method: the applicant provides it"
  clause: 第四条
pledge_policy:
  risk_categories: {health: 人身健康, low: 风险较低}
  barring_risk_categories: [health]
  barring_clause: 第七条
  post_check:
    trustworthy: {waived: true, description: 守信免核查 / waived, clause: 第六条}
    normal: {waived: false, within_working_days: 15, description: 15 个工作日内核查 / within 15 days, clause: 第六条}
    untrustworthy: {waived: false, within_working_days: 3, description: 3 个工作日内核查 / within 3 days, clause: 第六条}
deadlines:
  verification:
    electronic: {working_minutes: 20}
    paper: {working_days: 2}
    incomplete_archive: {working_days: 3}
  verification_clause: 第十条
  statutory_limit_clause: 第十条
  escalation:
    office: {name: 青湖区营商环境建设办公室, name_en: the district business-environment office}
    clause: 第十二条
    action: 证明需求单位将逾期情况报青湖区营商环境建设办公室 / the requesting unit reports the late reply to the district business-environment office
  complaint_working_days: 3
  complaint_max_extension_days: 2
  complaint_clause: 第二十条
  adjustment_working_days: 5
  adjustment_clause: 第三十条
  adjustment_office: {name: 青湖区司法局, name_en: the district justice bureau}
  publication_month_days: ["03-31", "06-30", "09-30", "12-31"]
  publication_clause: 第三十二条
files:
  pledge_template: templates/pledge.md
  complaint_rules: complaint_rules.yaml
records:
  verification_return_clause: 第十条
  supplement_clause: 第十一条
  purpose_clause: 第十三条
  applicant_provided_clause: 第四条
  pledge_clause: 第六条
  blacklist_clause: 第八条
  complaint_register_clause: 第二十二条
  complaint_termination_clause: 第二十一条
  adjustment_causes:
    - {id: add.law, type: add, clause: 第三十一条, label: 因法律修订需增加证明}
    - {id: change.method, type: change, clause: 第三十一条, label: 免提交方式变更}
    - {id: cancel.law, type: cancel, clause: 第三十一条, label: 因法律修订需取消}
"""

NEWCOMER_WORDING = {
    key: {**entry, "clause": {"第八条": "第十条", "第十二条": "第二十条", "第十四条": "第三十条"}.get(c, c)}
    if (c := entry.get("clause")) else entry
    for key, entry in SKELETON_WORDING.items()
}
"""The skeleton's deadline wording, citing the district's own clauses."""

NEWCOMER_RULES = [
    {**r, "clause": {"C-abolish": "第三条", "C-provided": "第四条", "C-share": "第五条", "C-pledge": "第六条",
                     "C-risk": "第七条", "C-credit": "第八条", "C-verify": "第十条", "C-proxy": "第十四条"}[r["clause"]]}
    for r in RULES
]

NEWCOMER_TEMPLATE = """\
# 告知承诺书（$jurisdiction）

- 证明：$certificate_name（$certificate_id）
- 内容：$content
- 核查：$post_check（$post_check_due）

承诺人：$applicant_name_masked（$applicant_id_masked） 日期：$date
"""

NEWCOMER_COMPLAINT_RULES = """\
acceptance_default: {clause: 第二十二条, reason: 登记并受理 / registered and accepted}
handling_default: {clause: 第二十条, reason: 继续办理 / handling continues}
rules:
  - id: reject.vague
    effect: reject
    when: {complaint.specific: false, complaint.verifiable: false}
    clause: 第二十一条
    reason: 不具体且无法核实 / not specific and cannot be verified
  - id: terminate.withdrawn
    effect: terminate
    when: {complaint.withdrawn: true}
    clause: 第二十一条
    reason: 投诉人撤回 / withdrawn
"""


def write_newcomer_ruleset(directory: Path) -> Path:
    """A district ruleset with its own clause numbering and office names (nothing of Zibo's)."""
    directory.mkdir(parents=True, exist_ok=True)
    dump = lambda obj: yaml.safe_dump(obj, allow_unicode=True, sort_keys=False)  # noqa: E731
    manifest = yaml.safe_load(NEWCOMER_MANIFEST)
    manifest["deadlines"]["wording"] = NEWCOMER_WORDING
    (directory / "manifest.yaml").write_text(dump(manifest), encoding="utf-8")
    rows = [{**r, "issuer": "青湖区某局", "legal_basis": r["legal_basis"] and "《青湖区测试规定》第一条"} for r in ROWS]
    rows = [{**r, "service_item_code": "QH-" + r["service_item_code"]} for r in rows]
    rows.append(row("QH-S2", "statutory", methods=["verification"], records="paper",
                    verification_limit={"working_days": 4, "basis": "《青湖区测试规定》第九条"}))
    (directory / "certificates.yaml").write_text(dump({"rows": rows}), encoding="utf-8")
    (directory / "rules.yaml").write_text(dump({"rules": NEWCOMER_RULES}), encoding="utf-8")
    clauses = [{"id": cid, "source": "qinghu-rules", "text": text} for cid, text in NEWCOMER_CLAUSES]
    (directory / "clauses.yaml").write_text(dump({"clauses": clauses}), encoding="utf-8")
    (directory / "templates").mkdir(exist_ok=True)
    (directory / "templates" / "pledge.md").write_text(NEWCOMER_TEMPLATE, encoding="utf-8")
    (directory / "complaint_rules.yaml").write_text(NEWCOMER_COMPLAINT_RULES, encoding="utf-8")
    return directory
