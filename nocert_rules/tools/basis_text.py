"""设定依据 as a published list writes it -> typed legal bases, each rank with the rule that gave it.

``《中华人民共和国食品安全法》第三十五条；《公共场所卫生管理条例》第七条、第八条`` gives two bases.
A rank comes, in this order, from

1. the ruleset's own list: the instrument is already ranked there (``known``);
2. the title's form, as 《立法法》 and the 程序条例 name instruments: ``…法`` is 法律; 国务院's
   ``…决定`` is 行政法规; ``…条例`` is 地方性法规 when the title starts with a province, an
   autonomous region or a city (``山东省…条例``, ``淄博市…条例``), else 行政法规; ``…规定`` /
   ``…办法`` / ``…细则`` are 地方政府规章 under a place name, else 部门规章; a document number
   (``〔2015〕52号``) or ``…意见`` / ``…通知`` is 规范性文件;
3. none: the basis is unranked, and the report says so.

Text with no 《》 is one unranked basis, kept as written. Every result carries its rule
(:class:`ParsedBasis`), for the import report.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from nocert_rules.policy.legal_basis import LegalBasis, LegalRank

PROVINCES = (
    "北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏", "浙江", "安徽", "福建",
    "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南", "重庆", "四川", "贵州", "云南", "西藏", "陕西",
    "甘肃", "青海", "宁夏", "新疆",
)
"""Province-level divisions (a title starting with one is a local instrument)."""

_TITLE = re.compile(r"《([^《》]+)》")
_ARTICLE = re.compile(r"^\s*((?:第[一二三四五六七八九十百千零〇两\d]+条(?:第[一二三四五六七八九十百零〇\d]+款)?"
                      r"(?:第[一二三四五六七八九十\d]+项)?[、，,和及至]?\s*)+)")
_CITY = re.compile(r"^[\u4e00-\u9fff]{2,4}(?:市|自治州|地区|盟)")
_EDITION = re.compile(r"[（(][^（）()]*(?:修正|修订|试行|暂行)?[^（）()]*[)）]$")
_DOC_NUMBER = re.compile(r"〔\d{4}〕\s*\d+\s*号|\[\d{4}\]\s*\d+\s*号")


@dataclass(frozen=True)
class ParsedBasis:
    basis: LegalBasis
    rule: str  # how the rank was found (zh / en)


def _local(title: str) -> bool:
    return title.startswith(PROVINCES) or bool(_CITY.match(title))


def infer_rank(title: str) -> tuple[LegalRank | None, str]:
    """A rank from the title's form (step 2 of the module doc), and the rule used."""
    bare = _EDITION.sub("", title).strip()
    if _DOC_NUMBER.search(title) or bare.endswith(("意见", "通知", "批复", "函")):
        return LegalRank.NORMATIVE_DOCUMENT, "文号或“意见/通知” → 规范性文件 / a document number or 意见/通知"
    if bare.endswith("决定") and "国务院" in bare:
        return LegalRank.ADMINISTRATIVE_REGULATION, "国务院…决定 → 行政法规 / a State Council decision"
    if bare.endswith("办法") or bare.endswith("规定") or bare.endswith("细则"):
        if _local(bare):
            return LegalRank.LOCAL_GOVERNMENT_RULE, "地名…规定/办法 → 地方政府规章 / a place's 规定/办法"
        return LegalRank.DEPARTMENTAL_RULE, "…规定/办法 → 部门规章 / 规定 or 办法 without a place"
    if bare.endswith("条例"):
        if _local(bare):
            return LegalRank.LOCAL_REGULATION, "地名…条例 → 地方性法规 / a place's 条例"
        return LegalRank.ADMINISTRATIVE_REGULATION, "…条例 → 行政法规 / 条例 without a place"
    if bare.endswith("法"):
        return LegalRank.LAW, "…法 → 法律 / a title ending in 法"
    return None, "标题形式无法判断层级 / the title's form gives no rank"


def parse_bases(text: str, known: Mapping[str, LegalRank] | None = None) -> list[ParsedBasis]:
    """The typed bases of a 设定依据 cell (see the module doc); [] for an empty cell."""
    text = text.strip()
    if not text:
        return []
    titles = list(_TITLE.finditer(text))
    if not titles:
        return [ParsedBasis(LegalBasis(instrument=text), "无《》书名号，未定级 / no 《title》: unranked, as written")]
    out = []
    for i, m in enumerate(titles):
        end = titles[i + 1].start() if i + 1 < len(titles) else len(text)
        tail = text[m.end():end]
        art = _ARTICLE.match(tail)
        article = art.group(1).strip().rstrip("、，,和及至") if art else None
        instrument = f"《{m.group(1).strip()}》"
        if known and instrument in known:
            rank: LegalRank | None = known[instrument]
            rule = f"清单中已定级为{rank.value} / ranked {rank.value} in the ruleset's list"
        else:
            rank, rule = infer_rank(m.group(1).strip())
        out.append(ParsedBasis(LegalBasis(instrument=instrument, article=article or None, rank=rank), rule))
    return out


def known_ranks(bases: list[LegalBasis]) -> dict[str, LegalRank]:
    """instrument -> rank, for the ranked bases given (the ruleset's list)."""
    return {b.instrument: b.rank for b in bases if b.rank is not None}


__all__ = ["PROVINCES", "ParsedBasis", "infer_rank", "known_ranks", "parse_bases"]
