"""The list as a list owner's spreadsheet: the columns of 《证明事项免提交清单》 and their words.

Published lists have the columns 序号, 证明名称, 涉及的政务服务事项名称, 事项编码, 设定依据, 开具单位,
免提交方式 (直接取消 / 数据共享 / 告知承诺 / 部门核验 / 其他) and 备注. ``export-list`` writes those and
the columns a ruleset row needs beyond them (证明编号, 开具单位部门, 共享来源, 档案形态, 风险类别, 状态,
核验时限, 即办件), so that ``import-list`` of an export gives back the very same rows.
"""

from __future__ import annotations

import re
import unicodedata

from nocert_rules.enums import RecordKind, ReplacementMethod, RowStatus

SERIAL = "序号"

COLUMNS: list[tuple[str, str]] = [
    # (ListRow field, the header export-list writes)
    ("certificate_id", "证明编号"),
    ("certificate_name", "证明名称"),
    ("service_item_name", "涉及的政务服务事项名称"),
    ("service_item_code", "事项编码"),
    ("legal_basis", "设定依据"),
    ("issuer", "开具单位"),
    ("issuer_department", "开具单位部门"),
    ("methods", "免提交方式"),
    ("sharing_source", "共享来源"),
    ("records", "档案形态"),
    ("risk_categories", "风险类别"),
    ("status", "状态"),
    ("verification_limit", "核验时限"),
    ("valid_from", "生效日期"),
    ("valid_until", "失效日期"),
    ("note", "备注"),
    ("on_the_spot", "即办件"),
]
"""The columns, in the order export-list writes them (after 序号)."""

HEADER_OF = dict(COLUMNS)

ALIASES: dict[str, str] = {
    # other headers seen in published lists -> field
    "证明事项名称": "certificate_name",
    "证明材料名称": "certificate_name",
    "证明事项": "certificate_name",
    "证明事项编号": "certificate_id",
    "证明编码": "certificate_id",
    "政务服务事项名称": "service_item_name",
    "涉及事项名称": "service_item_name",
    "事项名称": "service_item_name",
    "涉及的政务服务事项": "service_item_name",
    "事项代码": "service_item_code",
    "实施编码": "service_item_code",
    "政务服务事项编码": "service_item_code",
    "设定依据及条款": "legal_basis",
    "法律依据": "legal_basis",
    "开具单位（部门）": "issuer",
    "开具部门": "issuer",
    "出具单位": "issuer",
    "替代方式": "methods",
    "免提交方式（替代方式）": "methods",
    "办理方式": "methods",
}


def normalise_header(text: str) -> str:
    """Headers wrap and pad in published sheets: ``涉及的政务服务\\n事项名称 `` -> ``涉及的政务服务事项名称``."""
    return re.sub(r"\s+", "", text).replace("(", "（").replace(")", "）")


KNOWN_HEADERS: dict[str, str] = {normalise_header(h): f for f, h in COLUMNS} | {
    normalise_header(h): f for h, f in ALIASES.items()
}

ABOLISH = "直接取消"
OTHER = "其他"
METHOD_WORDS: dict[str, ReplacementMethod] = {
    "数据共享": ReplacementMethod.DATA_SHARING,
    "告知承诺": ReplacementMethod.PLEDGE,
    "部门核验": ReplacementMethod.VERIFICATION,
}
WORD_OF_METHOD = {m: w for w, m in METHOD_WORDS.items()}
KNOWN_METHOD_WORDS = [ABOLISH, *METHOD_WORDS, OTHER]

RECORD_WORDS: dict[str, RecordKind] = {
    "电子": RecordKind.ELECTRONIC,
    "纸质": RecordKind.PAPER,
    "档案不全": RecordKind.INCOMPLETE_ARCHIVE,
}
WORD_OF_RECORD = {k: w for w, k in RECORD_WORDS.items()}

YES, NO = "是", "否"
ON_THE_SPOT_WORDS: dict[str, bool] = {YES: True, NO: False, "true": True, "false": False}
"""即办件 as export-list writes it (是 / 否); true / false are read too; an empty cell is 否."""

STATUS_WORDS: dict[str, RowStatus] = {"保留": RowStatus.RETAINED, "取消": RowStatus.ABOLISHED}
WORD_OF_STATUS = {s: w for w, s in STATUS_WORDS.items()}

SEPARATORS = re.compile(r"\s*[、；;\n]\s*")
"""Several certificates (or service items, or methods) in one cell."""

METHOD_SEPARATORS = re.compile(r"\s*[、；;，,/\n]\s*|\s+")

LIMIT = re.compile(r"^(\d+)\s*(个工作日|工作日|分钟|个工作分钟)\s*[；;]\s*依据[:：]\s*(.+)$", re.S)
"""核验时限 as export-list writes it: ``3个工作日；依据：《…》第二十条`` or ``30分钟；依据：…``."""


def format_limit(working_days: int | None, working_minutes: int | None, basis: str) -> str:
    amount = f"{working_days}个工作日" if working_days is not None else f"{working_minutes}分钟"
    return f"{amount}；依据：{basis}"


RISK_WITH_KEY = re.compile(r"^.*[（(]([a-z0-9_]+)[)）]$")
"""风险类别 as export-list writes it: ``生命财产安全（life_property_safety）``; a bare key is read too."""


def clean_code(text: str) -> str:
    """事项编码 as typed: full-width digits, letters and dashes made ASCII (NFKC), spaces removed
    (``３７０３００－ＸＫ－０００１ `` -> ``370300-XK-0001``); separators between codes are kept."""
    parts = SEPARATORS.split(unicodedata.normalize("NFKC", text))
    return "、".join(re.sub(r"\s+", "", p).replace("—", "-").replace("–", "-") for p in parts if p.strip())


UNIT_NAME = re.compile(r"(?:局|委员会|委|办公室|中心|院|厅|所|站|协会|馆|公司|机构|部|法院|检察院|分局|大队|支队)$")
"""A text that names an issuing unit (a sheet's name, a section's title)."""

SECTION_NUMBER = re.compile(r"^\s*(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[)）]|\d+[、.．])\s*")
SECTION_COUNT = re.compile(r"[（(]\s*(?:共\s*)?\d+\s*项\s*[)）]\s*$")
"""A section title's number and count: ``一、淄博市公安局（3项）`` -> ``淄博市公安局``."""


# ---------------------------------------------------------------- formula injection (issue 25, row 7)
# export-list writes a CSV cell that starts with a formula character with a leading ' (shown as
# text) and import-list takes that off again (``nocert_rules.fileio``); in .xlsx every text cell is
# written as a string cell, never a formula (list_export).
