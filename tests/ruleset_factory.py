"""Writes small, self-contained rulesets for tests (independent of the bundled Zibo one)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

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
    return directory
