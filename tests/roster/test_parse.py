"""Reading roster files: encodings, XLSX, headers, values and every problem a file can have. No app needed."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from decimal import Decimal

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from consult.errors import ConsultError
from consult.roster import parse
from consult.roster.parse import MAX_ROWS
from consult.roster.parse import RosterRejected
from consult.roster.parse import RosterRow
from consult.roster.parse import RowRole
from consult.roster.parse import building_label
from consult.roster.parse import check_rows
from consult.roster.parse import column_letter
from consult.roster.parse import normalise
from consult.roster.parse import parse_area
from consult.roster.parse import parse_phone
from consult.roster.parse import parse_roster
from consult.roster.parse import read_table
from consult.roster.parse import room_label
from consult.roster.parse import unit_label

HEADER = ["楼栋", "单元", "房号", "建筑面积", "业主姓名", "联系电话", "身份", "业主编号"]


def csv_bytes(rows: Sequence[Sequence[object]], encoding: str = "utf-8", bom: bool = False) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    data = out.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(rows: Sequence[Sequence[object]], start_row: int = 1) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for offset, row in enumerate(rows):
        for col, value in enumerate(row, start=1):
            if value is not None:
                sheet.cell(row=start_row + offset, column=col, value=value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rejected(data: bytes) -> list[tuple[int | None, str | None, str]]:
    with pytest.raises(RosterRejected) as info:
        parse_roster(data)
    return [(p.row, p.column, str(p.message)) for p in info.value.problems]


def where(data: bytes) -> list[tuple[int | None, str | None]]:
    return [(row, column) for row, column, _message in rejected(data)]


# --- encodings and formats


def test_gb18030_with_chinese_headers_full_width_digits_and_stray_spaces() -> None:
    data = csv_bytes(
        [
            [" 楼栋 ", "单元", "房号", "建筑面积（㎡）", "业主姓名", "联系电话", "身份", "业主编号"],
            ["１栋", " ２单元 ", "１０１室", "８５．５", "张　伟", "１３８ ００１３ ８０００", "", ""],
            ["1栋", "2单元", "101室", "", "李  四", "", "租户", ""],
            ["", "", "", "", "", "", "", ""],
            ["２号楼", "１", "２０１号", "９０平方米", "王\t五", "", "业主", "ＱＹ００１"],
        ],
        encoding="gb18030",
    )
    rows = parse_roster(data)
    assert rows == [
        RosterRow(2, "1", "2", "101", Decimal("85.50"), RowRole.OWNER, "张伟", "13800138000",
                  None, None, None, "zh_CN"),
        RosterRow(3, "1", "2", "101", None, RowRole.OCCUPANT, "李四", None, None, None, None, "zh_CN"),
        RosterRow(5, "2", "1", "201", Decimal("90.00"), RowRole.OWNER, "王五", None, None, "QY001",
                  None, "zh_CN"),
    ]  # fmt: skip


def test_gbk_bytes_that_are_not_utf8_are_read_as_gb18030() -> None:
    data = "楼栋,单元,房号,面积\n1,1,101,50\n".encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert [(r.building, r.area) for r in parse_roster(data)] == [("1", Decimal("50.00"))]


def test_utf8_with_bom_reads_the_first_header() -> None:
    data = csv_bytes([HEADER, ["1", "1", "101", "60", "赵六", "", "", ""]], bom=True)
    assert read_table(data)[0][1][0] == "楼栋"
    assert parse_roster(data)[0].name == "赵六"


def test_plain_utf8_with_english_headers_in_any_case() -> None:
    header = ["Building", "UNIT", "room", "Area", "Owner Name", "Phone", "E-mail", "Role", "Owner_Key",
              "Co-owners", "Language"]  # fmt: skip
    data = csv_bytes(
        [
            header,
            ["A", "1", "101", "72.25 m2", "Li Lei", "+86 138-0013-8000", "li@example.test", "owner", "K-7",
             "Han Meimei", "English"],
            ["A", "1", "101", "72.25", "Tom Smith", "", "", "Tenant", "", "", "en"],
        ]
    )  # fmt: skip
    owner, tenant = parse_roster(data)
    assert (owner.building, owner.unit, owner.room, owner.area) == ("A", "1", "101", Decimal("72.25"))
    assert (owner.name, owner.phone, owner.email) == ("Li Lei", "+8613800138000", "li@example.test")
    assert (owner.owner_key, owner.co_owners, owner.locale, owner.role) == (
        "K-7",
        "Han Meimei",
        "en",
        "owner",
    )
    assert (tenant.role, tenant.name, tenant.locale) == (RowRole.OCCUPANT, "Tom Smith", "en")


def test_xlsx_first_sheet_with_numbers_and_gaps_keeps_sheet_row_numbers() -> None:
    data = xlsx_bytes(
        [
            HEADER,
            [1, 2, 101, 85.5, "张伟", 13800138000, None, None],
            [None] * 8,
            ["1栋", "2单元", 102, 93.50000000000001, "李娜", None, "业主", "K1"],
        ],
        start_row=3,
    )
    table = read_table(data)
    assert [line for line, _cells in table] == [3, 4, 6]
    rows = parse_roster(data)
    assert [(r.line, r.building, r.unit, r.room, r.area, r.phone) for r in rows] == [
        (4, "1", "2", "101", Decimal("85.50"), "13800138000"),
        (6, "1", "2", "102", Decimal("93.50"), None),
    ]


def test_xlsx_numbers_shown_with_leading_zeros_keep_them() -> None:
    """A room typed as 0101 in a column formatted "0000" is stored as the number 101: it reads as the
    sheet shows it. Without such a format a number reads as it is."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append([1, 2, 101, 85.5, "张伟", None, None, 42])
    sheet.append([1, 2, 102, 70, "李娜", None, None, 43])
    for cell in ("C2", "H2"):
        sheet[cell].number_format = "0000"
    sheet["B2"].number_format = "00"
    sheet["D2"].number_format = "0.00"  # a decimal format: the area as it is
    buffer = io.BytesIO()
    book.save(buffer)
    rows = parse_roster(buffer.getvalue())
    assert [(r.unit, r.room, r.area, r.owner_key) for r in rows] == [
        ("02", "0101", Decimal("85.50"), "0042"),
        ("2", "102", Decimal("70.00"), "43"),
    ]


def test_xlsx_problems_name_the_sheet_row() -> None:
    data = xlsx_bytes([["标题行不是表头"], HEADER, [1, 1, 101, 0, "张伟"]])
    problems = rejected(data)
    assert (1, "标题行不是表头", "Unknown column.") in problems
    assert (1, None, "Missing column 楼栋 (building).") in problems


def test_damaged_xlsx_is_rejected() -> None:
    assert rejected(b"PK\x03\x04 not really a zip") == [(None, None, "This is not a readable XLSX file.")]


def test_old_xls_gets_a_clear_error() -> None:
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    assert rejected(data) == [
        (None, None, "This is an old Excel .xls file. Save it as .xlsx or CSV and upload that.")
    ]


@pytest.mark.parametrize("data", [b"\x80\x81\x82,\xff\n", b"\xff\xfe1\x00,\x002\x00", b"abc,\x00\x01\n"])
def test_unreadable_bytes(data: bytes) -> None:
    assert rejected(data) == [(None, None, "Unreadable encoding. Save the file as CSV (UTF-8) or XLSX.")]


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\r\n \n", b",,,\n,,\n"])
def test_empty_file(data: bytes) -> None:
    assert rejected(data) == [(None, None, "The file is empty.")]


def test_header_only_has_no_data_rows() -> None:
    assert rejected(csv_bytes([HEADER, ["", ""]])) == [(None, None, "The file has no data rows.")]


def test_tab_separated_text_is_read() -> None:
    data = "楼栋\t单元\t房号\t面积\n3\t1\t301\t66\n".encode()
    assert parse_roster(data)[0].dwelling_key == ("3", "1", "301")


def test_more_than_the_row_limit_is_rejected_once() -> None:
    body = [[str(1 + i // 1000), "1", str(i % 1000 + 1), "50"] for i in range(MAX_ROWS + 1)]
    assert rejected(csv_bytes([HEADER[:4], *body])) == [
        (None, None, f"The file has more than {MAX_ROWS} rows.")
    ]
    assert len(parse_roster(csv_bytes([HEADER[:4], *body[:MAX_ROWS]]))) == MAX_ROWS


def test_xlsx_over_the_row_limit_is_rejected_without_reading_on() -> None:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER[:4])
    for i in range(MAX_ROWS + 1):
        sheet.append([1 + i // 1000, 1, i % 1000 + 1, 50])
    buffer = io.BytesIO()
    book.save(buffer)
    assert rejected(buffer.getvalue()) == [(None, None, f"The file has more than {MAX_ROWS} rows.")]


# --- headers


def test_unknown_duplicate_blank_and_missing_columns() -> None:
    data = csv_bytes(
        [
            ["栋", "单元", "房号", "备注", "姓名", "", "", "Name"],
            ["1", "1", "101", "x", "张伟", "", "oops", ""],
            ["1", "1", "102", "", "李娜", "", "", ""],
        ]
    )
    assert rejected(data) == [
        (1, None, "Missing column 建筑面积 (area)."),
        (1, "备注", "Unknown column."),
        (1, "Name", "Duplicate column: the same as column E."),
        (2, None, "Column G has data but no header."),
    ]


def test_blank_header_over_blank_data_is_ignored() -> None:
    data = csv_bytes([["楼栋", "", "单元", "房号", "面积", ""], ["1", "", "1", "101", "50", ""]])
    assert parse_roster(data)[0].area == Decimal("50.00")


@pytest.mark.parametrize(
    ("header", "field"),
    [("建筑面积(m²)", "area"), ("房号*", "room"), ("OWNER-KEY", "owner_key"), ("e mail", "email")],
)
def test_header_variants(header: str, field: str) -> None:
    columns = {
        "building": "楼栋",
        "unit": "单元",
        "room": "房号",
        "area": "面积",
        "name": "姓名",
        field: header,
    }
    values = {"building": "1", "unit": "1", "room": "101", "area": "50", "name": "张伟", "owner_key": "K",
              "email": "a@b.cn"}  # fmt: skip
    data = csv_bytes([list(columns.values()), [values[f] for f in columns]])
    row = parse_roster(data)[0]
    assert getattr(row, field) == ({"area": Decimal("50.00"), "room": "101"}.get(field) or values[field])


# --- values


@pytest.mark.parametrize(
    ("given", "label"),
    [("1栋", "1"), ("1幢", "1"), ("1号楼", "1"), ("1号", "1"), ("第12栋", "12"), ("A座", "A"), ("栋", "栋")],
)
def test_building_labels(given: str, label: str) -> None:
    assert building_label(given) == label


def test_unit_and_room_labels() -> None:
    assert [unit_label(u) for u in ("2单元", "第3单元", "4")] == ["2", "3", "4"]
    assert [room_label(r) for r in ("101室", "102号", "1-103")] == ["101", "102", "1-103"]


@pytest.mark.parametrize(
    ("text", "area"),
    [("85.5", "85.50"), ("85.5m2", "85.50"), ("85.5 M2", "85.50"), ("90平米", "90.00"),
     ("1,234.56", "1234.56"), ("99999999.99", "99999999.99"), ("70.100", "70.10")],
)  # fmt: skip
def test_areas(text: str, area: str) -> None:
    assert parse_area(text) == (Decimal(area), None)


@pytest.mark.parametrize(
    ("text", "message"),
    [("0", "The area must be more than 0."), ("-3", "The area must be more than 0."),
     ("85.555", "The area has more than 2 decimals: 85.555"),
     ("100000000", "The area is too large (at most 99999999.99)."),
     ("八十", "Not an area in m²: 八十"), ("1e3", "Not an area in m²: 1e3")],
)  # fmt: skip
def test_invalid_areas(text: str, message: str) -> None:
    area, problem = parse_area(text)
    assert area is None
    assert str(problem) == message


def test_phones() -> None:
    assert parse_phone("(028) 8765-4321") == "02887654321"
    assert parse_phone("+86 13800138000") == "+8613800138000"
    assert parse_phone("123456") is None
    assert parse_phone("1380013800012345") is None
    assert parse_phone("138 0013 8000 / 139") is None


def test_column_letters() -> None:
    assert [column_letter(i) for i in (0, 25, 26, 27, 701, 702)] == ["A", "Z", "AA", "AB", "ZZ", "AAA"]


@given(st.text())
def test_normalising_twice_changes_nothing(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
    assert once == once.strip()
    assert "  " not in once


# --- rows


def test_several_errors_are_all_listed_with_row_and_column() -> None:
    data = csv_bytes(
        [
            [*HEADER, "邮箱", "语言"],
            ["1", "1", "101", "85", "张伟", "12345", "", "", "zhang.example", "中文"],
            ["1", "1", "", "60", "李娜", "", "", "", "", ""],
            ["1", "1", "102", "0", "王五", "", "房东", "", "", "fr"],
            ["1", "1", "103", "", "", "", "租户", "", "", ""],
            ["1", "1", "101", "85", "赵六", "", "", "", "", ""],
        ]
    )
    assert rejected(data) == [
        (2, "联系电话", "Not a phone number: 12345"),
        (2, "邮箱", "Not an e-mail address: zhang.example"),
        (3, "房号", "Missing value."),
        (4, "建筑面积", "The area must be more than 0."),
        (4, "身份", "Unknown role 房东: use 业主, 租户 or 开发商."),
        (4, "语言", "Unknown language fr: use 中文 or English."),
        (5, "建筑面积", "No area is given for this dwelling."),
        (5, "业主姓名", "A tenant or occupant row needs a name."),
        (6, "房号", "Duplicate room, already in row 2."),
    ]


def test_duplicate_room_after_label_normalisation() -> None:
    data = csv_bytes([HEADER, ["1栋", "1单元", "101室", "50", "张伟"], ["1", "1", "101", "50", "李娜"]])
    assert rejected(data) == [(3, "房号", "Duplicate room, already in row 2.")]


def test_missing_area_and_occupant_area_mismatch() -> None:
    data = csv_bytes(
        [
            HEADER,
            ["1", "1", "101", "", "张伟"],
            ["1", "1", "101", "", "李娜", "", "租户"],
            ["1", "1", "102", "60", "王五"],
            ["1", "1", "102", "61", "赵六", "", "租户"],
            ["1", "1", "103", "", "孙七", "", "租户"],
            ["1", "1", "103", "45", "周八", "", "租户"],
        ]
    )
    assert rejected(data) == [
        (2, "建筑面积", "No area is given for this dwelling."),
        (5, "建筑面积", "The area differs from 60.00 given in row 4."),
    ]


def test_occupant_rows_may_give_the_dwelling_its_area() -> None:
    data = csv_bytes([HEADER, ["1", "1", "101", "45", "李娜", "", "租户"], ["1", "1", "101", "", "", "", ""]])
    occupant, nameless = parse_roster(data)
    assert (occupant.area, occupant.role) == (Decimal("45.00"), RowRole.OCCUPANT)
    assert (nameless.area, nameless.name, nameless.role) == (None, None, RowRole.OWNER)


def test_owner_keys_must_agree_on_the_name_and_be_named() -> None:
    data = csv_bytes(
        [
            HEADER,
            ["1", "1", "101", "50", "张伟", "13800138000", "", "K1"],
            ["1", "1", "102", "50", "", "", "", "K1"],
            ["1", "1", "103", "50", "张 卫", "", "", "K1"],
            ["1", "1", "104", "50", "", "13900139000", "", "K1"],
            ["1", "1", "105", "50", "", "", "", "K2"],
            ["1", "1", "106", "50", "王五", "", "", "Developer"],
        ]
    )
    assert rejected(data) == [
        (4, "业主姓名", "Owner key K1 has a different value in row 2."),
        (5, "联系电话", "Owner key K1 has a different value in row 2."),
        (6, "业主姓名", "Owner key K2 has no owner name."),
        (7, "业主编号", "The owner key Developer is reserved."),
    ]


def test_owner_fields_belong_on_owner_rows() -> None:
    data = csv_bytes(
        [
            [*HEADER, "共有人"],
            ["1", "1", "101", "50", "", "13800138000", "", "", "刘一"],
            ["1", "1", "101", "", "李娜", "", "租户", "K9", "刘二"],
            ["1", "1", "102", "50", "开发商A", "", "开发商", "", ""],
            ["1", "1", "103", "50", "开发商B", "", "开发商", "", ""],
            ["1", "1", "104", "50", "张伟", "", "", "K3", ""],
            ["1", "1", "104", "", "王五", "", "租户", "K3", ""],
        ]
    )
    assert rejected(data) == [
        (2, "联系电话", "Contact details and co-owners need an owner name."),
        (2, "共有人", "Contact details and co-owners need an owner name."),
        (3, "业主编号", "Only an owner row takes an owner key."),
        (3, "共有人", "Only an owner row takes co-owners."),
        (5, "业主姓名", "The developer is named 开发商A in row 4."),
    ]


def test_duplicate_occupant_and_too_long_values() -> None:
    data = csv_bytes(
        [
            HEADER,
            ["1", "1", "101", "50", "张伟"],
            ["1", "1", "101", "", "李娜", "", "租户"],
            ["1", "1", "101", "", "李 娜", "", "使用人"],
            ["1" * 41, "1", "102", "50", "张" * 101],
        ]
    )
    assert rejected(data) == [
        (4, "业主姓名", "This person is already listed in row 3."),
        (5, "楼栋", "Too long: at most 40 characters."),
        (5, "业主姓名", "Too long: at most 100 characters."),
    ]


def test_roles_and_languages() -> None:
    data = csv_bytes(
        [
            ["楼栋", "单元", "房号", "面积", "姓名", "身份", "语言"],
            ["1", "1", "101", "50", "张伟", "OWNER", "EN"],
            ["1", "1", "101", "", "李娜", "tenant", "zh-CN"],
            ["1", "1", "102", "50", "", "开发商", "英文"],
            ["1", "1", "103", "50", "", "", ""],
        ]
    )
    assert [(r.role, r.locale) for r in parse_roster(data)] == [
        (RowRole.OWNER, "en"),
        (RowRole.OCCUPANT, "zh_CN"),
        (RowRole.DEVELOPER, "en"),
        (RowRole.OWNER, "zh_CN"),
    ]


def test_check_rows_names_fields_when_rows_come_from_code() -> None:
    row = RosterRow(7, "1", "1", "101", Decimal(50), RowRole.OWNER, "张伟", None, None, None, None, "zh_CN")
    again = RosterRow(9, "1", "1", "101", Decimal(50), RowRole.OWNER, "李娜", None, None, None, None, "zh_CN")
    problems = check_rows([row, again])
    assert [(p.row, p.column, str(p.message)) for p in problems] == [
        (9, "room", "Duplicate room, already in row 7.")
    ]


def test_rejection_is_a_domain_error_with_lazy_english_messages() -> None:
    with pytest.raises(ConsultError) as info:
        parse_roster(csv_bytes([HEADER, ["1", "1", "101", "-1", "张伟"]]))
    assert isinstance(info.value, RosterRejected)
    assert str(info.value) == "The roster was rejected. Problems found: 1."
    assert info.value.problems[0].describe() == "row 2, 建筑面积: The area must be more than 0."


def test_an_xlsx_that_unpacks_too_large_is_refused_before_it_is_opened(monkeypatch) -> None:
    data = xlsx_bytes([["楼栋", "单元", "房号", "建筑面积", "业主姓名"], ["1", "1", "101", "80", "张伟"]])
    assert parse_roster(data)  # within the limit it is read
    monkeypatch.setattr(parse, "MAX_XLSX_UNPACKED", 1000)  # a few kilobytes unpacked, more than this
    with pytest.raises(RosterRejected):
        parse_roster(data)


def test_an_xlsx_of_too_many_members_is_refused_before_it_is_opened() -> None:
    data = xlsx_bytes([["楼栋", "单元", "房号", "建筑面积", "业主姓名"], ["1", "1", "101", "80", "张伟"]])
    padded = io.BytesIO(data)
    with zipfile.ZipFile(padded, "a") as archive:
        for n in range(parse.MAX_XLSX_MEMBERS):
            archive.writestr(f"customXml/item{n}.xml", "<x/>")
    assert parse_roster(data)  # the workbook itself is read
    with pytest.raises(RosterRejected):
        parse_roster(padded.getvalue())
