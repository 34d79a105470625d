"""Write the published-layout fixtures beside this script (made up, shaped like the lists cities publish).

Run: ``python tests/data/lists/make_lists.py`` (needs openpyxl); the files are committed, and
tests/test_list_fixtures.py checks that they are what this script writes.

- ``city-sections.xlsx``: two title rows, the eight columns with a wrapped header, a section row
  per issuing unit merged across the table (序号 restarts in each), 开具单位 merged down its rows,
  full-width digits and spaces in some codes, a note row at the end.
- ``by-department.xlsx``: one sheet per department, named after the unit, without a 开具单位
  column; a 说明 sheet with no table; several methods in one cell.
- ``district-gbk.csv``: the eight columns as a WPS / Excel CSV export in GB18030 (GBK), a title
  line above the header, several certificates in one cell.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

HERE = Path(__file__).resolve().parent
HEADER = ["序号", "证明名称", "涉及的政务服务\n事项名称", "事项编码", "设定依据", "开具单位", "免提交方式", "备注"]

SECTIONS = [
    ("淄博市公安局", [
        ["无犯罪记录证明", "保安员证核发", "３７０３００－ＸＫ－０１０１", "《保安服务管理条例》第十六条", "部门核验", ""],
        ["户籍证明", "保安员证核发", "370300-XK-0101 ", "《中华人民共和国户口登记条例》第七条", "数据共享", ""],
        ["居住证明", "义务教育入学登记", "370300-QR-0102", "", "直接取消", "无法律法规依据"],
    ]),
    ("淄博市民政局", [
        ["婚姻状况证明", "城乡居民最低生活保障审核", "370300-JF-0103", "《社会救助暂行办法》第十一条", "数据共享、告知承诺", ""],
        ["困难群众身份证明", "临时救助审批", "370300-JF-0104", "《某某临时救助工作办法》", "告知承诺", "仅规范性文件依据"],
    ]),
    ("淄博市人力资源和社会保障局", [
        ["参保缴费证明", "职业技能鉴定", "370300-QT-0105", "《中华人民共和国社会保险法》第十七条", "数据共享", ""],
    ]),
]

DEPARTMENTS = {
    "淄博市市场监督管理局": [
        ["营业执照", "食品经营许可", "370300-XK-0201", "《中华人民共和国食品安全法》第三十五条", "数据共享", ""],
        ["经营场所证明", "食品经营许可", "370300-XK-0201", "《某某场所登记管理办法》第五条", "告知承诺", ""],
    ],
    "淄博市教育局": [
        ["学籍证明", "教师资格认定", "370300-QR-0202", "《中华人民共和国教师法》第十一条", "数据共享、部门核验", ""],
    ],
}

DISTRICT = [
    [1, "出生医学证明、户口簿", "新生儿落户", "370300-QR-0301", "《中华人民共和国母婴保健法》第二十三条",
     "淄博市卫生健康委员会", "数据共享", "两证同办"],
    [2, "劳动合同", "失业保险金申领", "370300-JF-0302", "《失业保险条例》第十四条", "淄博市人力资源和社会保障局",
     "告知承诺", ""],
    [3, "亲属关系证明", "工伤保险待遇核定", "370300-QR-0303", "", "村（居）委会", "直接取消", ""],
]


def city_sections(path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment

    book = Workbook()
    ws = book.active
    ws.title = "证明事项清单"
    ws.append(["淄博市证明事项免提交清单（示例，非官方）"])
    ws.append(["（按开具单位分节；2021年3月）"])
    ws.append(HEADER)
    for col in range(1, 9):
        ws.cell(row=3, column=col).alignment = Alignment(wrap_text=True)
    ws.merge_cells("A1:H1")
    ws.merge_cells("A2:H2")
    for s, (unit, rows) in enumerate(SECTIONS, start=1):
        ws.append([f"{'一二三'[s - 1]}、{unit}（{len(rows)}项）"])
        ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=8)
        first = ws.max_row + 1
        for i, (name, item, code, basis, method, note) in enumerate(rows, start=1):
            ws.append([i, name, item, code, basis, unit if i == 1 else None, method, note])
        if len(rows) > 1:
            ws.merge_cells(start_row=first, start_column=6, end_row=ws.max_row, end_column=6)
    ws.append(["注：本清单为测试用示例，非官方文件。"])
    ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=8)
    book.save(path)


def by_department(path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    notes = book.active
    notes.title = "说明"
    notes.append(["本表按部门分工作表列出证明事项（示例）。"])
    for unit, rows in DEPARTMENTS.items():
        ws = book.create_sheet(unit)
        ws.append([c for c in HEADER if c != "开具单位"])
        for i, (name, item, code, basis, method, note) in enumerate(rows, start=1):
            ws.append([i, name, item, code, basis, method, note])
    book.save(path)


def district_gbk(path: Path) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["淄博市某区证明事项免提交清单（示例）"])
    writer.writerow([h.replace("\n", "") for h in HEADER])
    writer.writerows(DISTRICT)
    path.write_bytes(buffer.getvalue().encode("gb18030"))


FIXTURES = {"city-sections.xlsx": city_sections, "by-department.xlsx": by_department, "district-gbk.csv": district_gbk}


def main(target: Path = HERE) -> list[Path]:
    out = []
    for name, make in FIXTURES.items():
        make(target / name)
        out.append(target / name)
    return out


if __name__ == "__main__":
    for p in main():
        print(p)
