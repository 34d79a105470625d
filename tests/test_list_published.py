"""import-list of a list as cities publish it (issue 23): only the eight published columns, no mapping."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from nocert_rules import Engine, RulesetError, load_ruleset
from nocert_rules.cli.main import main
from nocert_rules.enums import Method, RecordKind
from nocert_rules.policy.legal_basis import LegalRank
from nocert_rules.policy.units import load_units
from nocert_rules.tools.basis_text import infer_rank, parse_bases
from nocert_rules.tools.list_import import import_list

openpyxl = pytest.importorskip("openpyxl")

ROOT = Path(__file__).resolve().parent.parent
ZIBO = ROOT / "rulesets" / "zibo"
ZHANGDIAN = ROOT / "rulesets" / "zibo-zhangdian"
UNITS = ZIBO / "units.yaml"
PUBLISHED = ["序号", "证明名称", "涉及的政务服务事项名称", "事项编码", "设定依据", "开具单位", "免提交方式", "备注"]
ROWS = [
    [1, "营业执照", "食品经营许可", "370300-XK-0001", "《中华人民共和国食品安全法》第三十五条", "淄博市市场监督管理局", "数据共享", ""],
    [2, "无犯罪记录证明", "保安员证核发", "370300-XK-0090", "《保安服务管理条例》第十六条", "市公安局", "部门核验", ""],
    [3, "经营场所使用证明", "个体工商户登记", "370300-XK-0091", "《某某场所管理办法》第五条", "淄博市市场监督管理局", "告知承诺", ""],
    [4, "居住证明", "入学登记", "370300-QR-0090", "", "村（居）委会", "直接取消", "无依据"],
    [5, "亲属关系证明", "入学登记", "370300-QR-0090", "《中华人民共和国民法典》第一千零四十五条", "淄博市某某研究会", "数据共享", ""],
]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def published(path: Path, rows: list[list[object]], title: str = "淄博市证明事项免提交清单") -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "清单"
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(PUBLISHED))
    ws.append(PUBLISHED)
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


def city(tmp_path: Path, *, units: bool = True) -> Path:
    """A copy of the Zibo ruleset without its list (and with or without its units.yaml)."""
    folder = tmp_path / "zibo"
    shutil.copytree(ZIBO, folder, ignore=shutil.ignore_patterns("tests"))
    (folder / "certificates.yaml").unlink()
    if not units:
        (folder / "units.yaml").unlink()
    return folder


def test_the_eight_published_columns_convert_with_no_mapping_and_the_result_decides(tmp_path: Path) -> None:
    folder = city(tmp_path)
    sheet = published(tmp_path / "清单.xlsx", ROWS)
    code, out, err = run("import-list", str(sheet), "--out", str(folder / "certificates.yaml"))
    assert code == 0, err
    rs = load_ruleset(folder)
    by_name = {r.certificate_name: r for r in rs.rows}
    licence, record, premises, residence, kin = (by_name[r[1]] for r in ROWS)  # type: ignore[index]
    # department key, records form and sharing source from units.yaml, through an alias too
    assert (licence.issuer_department, licence.records, licence.sharing_source) == (
        "market_regulation", RecordKind.ELECTRONIC, "电子证照库（市场主体登记信息）")
    assert record.issuer == "市公安局" and record.issuer_department == "public_security"
    # typed bases: rank-based abolition works on the imported list
    assert [b.rank for b in premises.bases] == [LegalRank.DEPARTMENTAL_RULE]
    engine = Engine(rs)
    request = {"request_id": "R-1", "service_item": "370300-XK-0091", "certificate": premises.certificate_id,
               "applicant": {"kind": "person", "id_number": "370399199009231263"}, "requested_at": "2024-06-03T10:00"}
    decision = engine.decide(request)
    assert decision.method is Method.ABOLISH
    assert "abolish.basis-below-rank" in [s.rule_id for s in decision.trace]
    shared = engine.decide({**request, "service_item": "370300-XK-0001", "certificate": licence.certificate_id,
                            "sharing_online": True})
    assert shared.method is Method.DATA_SHARING
    assert residence.bases == () and kin.issuer_department.startswith("unit_")
    # the new unit went into units.yaml, marked for review; nothing else was invented silently
    units = yaml.safe_load((folder / "units.yaml").read_text(encoding="utf-8"))["units"]
    new = [u for u in units if u["name"] == "淄博市某某研究会"]
    assert new == [{"name": "淄博市某某研究会", "aliases": [], "department": kin.issuer_department, "review": True}]
    lint_code, _, lint_err = run("lint", str(folder))
    assert lint_code == 0, lint_err


def test_every_derived_value_is_reported_with_its_cell(tmp_path: Path) -> None:
    folder = city(tmp_path)
    result = import_list(published(tmp_path / "l.xlsx", ROWS), ruleset=folder)
    assert result.ok, result.problems
    derived = {(d.where, d.field): d for d in result.derived}
    assert derived[("清单!F4", "issuer_department")].value == "public_security"
    assert "units.yaml" in derived[("清单!F4", "issuer_department")].source
    assert derived[("清单!E5", "legal_basis")].value == "《某某场所管理办法》第五条: 部门规章"
    assert "部门规章" in derived[("清单!E5", "legal_basis")].source  # the rule used
    assert derived[("清单!F7", "issuer_department")].review
    assert derived[("清单!F7", "sharing_source")].review  # a new unit's source is a proposal
    for r in range(3, 8):
        assert (f"清单!B{r}", "certificate_id") in derived
    assert result.skipped == []  # the title row is above the header


def test_ids_are_stable_when_a_changed_list_is_imported_again(tmp_path: Path) -> None:
    folder = city(tmp_path)
    first = import_list(published(tmp_path / "v1.xlsx", ROWS), ruleset=folder)
    # version 2: a row inserted at the top, every 序号 shifted, rows reordered
    changed = [[1, "营业执照", "烟草专卖零售许可", "370300-XK-0092", "", "淄博市市场监督管理局", "数据共享", ""]]
    changed += [[i + 2, *row[1:]] for i, row in enumerate(reversed(ROWS))]
    second = import_list(published(tmp_path / "v2.xlsx", changed), ruleset=folder)
    ids_1 = {(r.service_item_code, r.certificate_name): r.certificate_id for r in first.rows}
    ids_2 = {(r.service_item_code, r.certificate_name): r.certificate_id for r in second.rows}
    assert all(ids_2[k] == v for k, v in ids_1.items())
    assert ids_2[("370300-XK-0092", "营业执照")] == ids_1[("370300-XK-0001", "营业执照")]  # one certificate, one id


def test_a_derived_id_another_certificate_has_is_never_reused() -> None:
    from nocert_rules.policy.units import Unit
    from nocert_rules.tools.list_derive import Derivation

    unit = Unit(name="淄博市公安局", department="public_security")
    plain, _ = Derivation().certificate_id("户籍证明", unit)
    taken = Derivation(known_ids={("另一证明", "某单位"): plain})  # as if a 40-bit hash collided
    cid, _ = taken.certificate_id("户籍证明", unit)
    assert cid != plain and cid.startswith(plain) and len(cid) == len(plain) + 10
    assert taken.certificate_id("户籍证明", unit)[0] == cid  # and stays stable


def test_ids_the_current_list_gives_are_kept(tmp_path: Path) -> None:
    folder = tmp_path / "zibo"
    shutil.copytree(ZIBO, folder, ignore=shutil.ignore_patterns("tests"))
    shutil.copy(UNITS, folder / "units.yaml")  # 市公安局 is an alias of 淄博市公安局 there
    result = import_list(published(tmp_path / "l.xlsx", ROWS[:2]), ruleset=folder)
    assert [r.certificate_id for r in result.rows] == ["ZM-SJ-0001", "ZM-GA-0001"]


def test_a_list_imports_with_no_units_file_at_all(tmp_path: Path) -> None:
    folder = city(tmp_path, units=False)
    out = folder / "certificates.yaml"
    code, _, err = run("import-list", str(published(tmp_path / "l.xlsx", ROWS)), "--out", str(out))
    assert code == 0, err
    units = yaml.safe_load((folder / "units.yaml").read_text(encoding="utf-8"))["units"]
    assert {u["name"] for u in units} == {r[5] for r in ROWS} and all(u["review"] for u in units)
    rows = load_ruleset(folder).rows
    assert {r.records for r in rows} == {RecordKind.PAPER}  # the fallback, reported as a default
    # a second import reads the proposals back: the same keys and ids
    again = import_list(published(tmp_path / "l.xlsx", ROWS), ruleset=folder)
    assert [(r.certificate_id, r.issuer_department) for r in again.rows] == \
        [(r.certificate_id, r.issuer_department) for r in rows]


def test_a_district_inherits_the_citys_units(tmp_path: Path) -> None:
    city_dir = tmp_path / "zibo"
    shutil.copytree(ZIBO, city_dir, ignore=shutil.ignore_patterns("tests"))
    shutil.copy(UNITS, city_dir / "units.yaml")
    district = tmp_path / "zibo-zhangdian"
    shutil.copytree(ZHANGDIAN, district, ignore=shutil.ignore_patterns("tests"))
    (district / "units.yaml").write_text(
        "units:\n  - {name: 淄博市张店区公安分局, department: public_security, records: paper}\n", encoding="utf-8")
    units = load_units(district)
    assert units.find("市公安局").department == "public_security"  # the city's, by an alias
    assert units.find("淄博市张店区公安分局").records is RecordKind.PAPER
    assert units.origin["淄博市张店区公安分局"] == "units.yaml" and units.origin["淄博市公安局"].endswith("zibo/units.yaml")


def test_a_bad_units_file_names_its_line(tmp_path: Path) -> None:
    folder = tmp_path / "rs"
    folder.mkdir()
    (folder / "units.yaml").write_text("units:\n  - {name: 市公安局, department: public_security}\n"
                                       "  - name: 淄博市公安局\n    aliases: [市公安局]\n    department: police\n",
                                       encoding="utf-8")
    with pytest.raises(RulesetError) as info:
        load_units(folder)
    assert info.value.file == "units.yaml" and info.value.line == 4 and "市公安局" in info.value.problem
    (folder / "units.yaml").write_text("units:\n  - {name: x, department: Police Dept}\n", encoding="utf-8")
    with pytest.raises(RulesetError) as info:
        load_units(folder)
    assert info.value.line == 2 and info.value.field == "units[0].department"


def test_the_ruleset_loads_and_hashes_its_units_file_and_refuses_a_bad_one(tmp_path: Path) -> None:
    rs = load_ruleset(ZIBO)
    assert "units.yaml" in rs.files
    folder = tmp_path / "zibo"
    shutil.copytree(ZIBO, folder, ignore=shutil.ignore_patterns("tests"))
    text = (folder / "units.yaml").read_text(encoding="utf-8")
    (folder / "units.yaml").write_text(text.replace("department: public_security", "department: Public Security", 1),
                                       encoding="utf-8")
    with pytest.raises(RulesetError) as info:
        load_ruleset(folder)
    problem = next(p for p in info.value.problems if p.file == "units.yaml")
    line = text.splitlines().index(next(x for x in text.splitlines() if "department: public_security" in x)) + 1
    assert problem.line == line and problem.field and problem.field.endswith(".department")


@pytest.mark.parametrize(("title", "rank"), [
    ("中华人民共和国食品安全法", LegalRank.LAW),
    ("中华人民共和国食品安全法（2021年修正）", LegalRank.LAW),
    ("保安服务管理条例", LegalRank.ADMINISTRATIVE_REGULATION),
    ("城市居民最低生活保障条例", LegalRank.ADMINISTRATIVE_REGULATION),
    ("山东省物业管理条例", LegalRank.LOCAL_REGULATION),
    ("淄博市文明行为促进条例", LegalRank.LOCAL_REGULATION),
    ("国务院对确需保留的行政审批项目设定行政许可的决定", LegalRank.ADMINISTRATIVE_REGULATION),
    ("医师执业注册管理办法", LegalRank.DEPARTMENTAL_RULE),
    ("山东省实施《中华人民共和国残疾人保障法》办法", LegalRank.LOCAL_GOVERNMENT_RULE),
    ("国务院关于全面建立困难残疾人生活补贴和重度残疾人护理补贴制度的意见（国发〔2015〕52号）",
     LegalRank.NORMATIVE_DOCUMENT),
    ("某某工作指引", None),
])
def test_rank_inferred_from_the_titles_form(title: str, rank: LegalRank | None) -> None:
    assert infer_rank(title)[0] is rank


def test_basis_text_splits_into_instruments_and_articles() -> None:
    parsed = parse_bases("《中华人民共和国律师法》第五条、第七条；《社会救助暂行办法》第十四条 《某某规定》",
                         {"《社会救助暂行办法》": LegalRank.ADMINISTRATIVE_REGULATION})
    assert [(p.basis.instrument, p.basis.article, p.basis.rank) for p in parsed] == [
        ("《中华人民共和国律师法》", "第五条、第七条", LegalRank.LAW),
        ("《社会救助暂行办法》", "第十四条", LegalRank.ADMINISTRATIVE_REGULATION),  # the ruleset ranks it
        ("《某某规定》", None, LegalRank.DEPARTMENTAL_RULE),
    ]
    assert "ruleset" in parsed[1].rule and "部门规章" in parsed[2].rule
    assert parse_bases("") == [] and parse_bases("国家有关规定")[0].basis.rank is None


def test_full_width_codes_sections_and_notes(tmp_path: Path) -> None:
    folder = city(tmp_path)
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "清单"
    ws.append(PUBLISHED)
    ws.append(["一、淄博市公安局（2项）"] * 8)
    ws.append([1, "无犯罪记录证明", "保安员证核发", "３７０３００－ＸＫ－００９０ ", "《保安服务管理条例》", None, "部门核验", ""])
    ws.append([2, "户籍证明", "保安员证核发", "370300-XK-0090", "《中华人民共和国户口登记条例》", None, "数据共享", ""])
    ws.append(["二、淄博市民政局（1项）"] * 8)
    ws.append([1, "婚姻状况证明", "不动产登记", "370300-QR-0090", "", None, "直接取消", ""])
    ws.append(["注：本清单为示例。"] * 8)
    path = tmp_path / "sections.xlsx"
    book.save(path)
    result = import_list(path, ruleset=folder)
    assert result.ok, result.problems
    assert [(r.service_item_code, r.issuer, r.issuer_department) for r in result.rows] == [
        ("370300-XK-0090", "淄博市公安局", "public_security"), ("370300-XK-0090", "淄博市公安局", "public_security"),
        ("370300-QR-0090", "淄博市民政局", "civil_affairs")]
    assert [t for _, t in result.skipped] == ["一、淄博市公安局（2项）", "二、淄博市民政局（1项）", "注：本清单为示例。"]
    assert any(d.field == "service_item_code" and d.where == "清单!D3" for d in result.derived)
