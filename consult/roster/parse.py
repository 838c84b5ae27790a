"""Reading a roster file (名册): CSV or XLSX bytes → validated rows. Pure: no app, no database.

One row per person per dwelling. Every problem in the file is collected, and any problem rejects the
whole file (``RosterRejected``), so a worker corrects the file and uploads it again.
"""

from __future__ import annotations

import csv
import enum
import io
import math
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Collection
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import time
from decimal import Decimal
from decimal import InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l

from consult.errors import ConsultError

#: most data rows one file may hold
MAX_ROWS = 20_000
#: largest area of one dwelling, m² (Numeric(10, 2))
MAX_AREA = Decimal("99999999.99")
#: an XLSX is a zip: refuse one that unpacks to more than this (a zip bomb)
MAX_XLSX_UNPACKED = 200 * 1024 * 1024
#: and one of more members than this (a workbook has a few dozen; thousands only tie up the reader)
MAX_XLSX_MEMBERS = 1000
#: the owner key that all unsold developer units share
DEVELOPER_KEY = "developer"
DEVELOPER_NAME = "开发商"
DEFAULT_LOCALE = "zh_CN"

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"
UTF8_BOM = b"\xef\xbb\xbf"


class RowRole(enum.StrEnum):
    OWNER = "owner"
    OCCUPANT = "occupant"
    DEVELOPER = "developer"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file. ``row`` is the row number a spreadsheet shows (None: the whole file);
    ``column`` the header text as written (None: no particular column); ``message`` a lazy translation."""

    row: int | None
    column: str | None
    message: Any

    def describe(self) -> str:
        """One line for the command line: ``row 5, 面积: The area must be more than 0``."""
        where = ", ".join(part for part in (f"row {self.row}" if self.row else "", self.column or "") if part)
        return f"{where}: {self.message}" if where else str(self.message)


class RosterRejected(ConsultError):
    """The file has problems; nothing was imported. ``problems`` lists every one of them."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(_l("The roster was rejected. Problems found: %(count)s.", count=len(self.problems)))


@dataclass(frozen=True)
class RosterRow:
    """One valid data row. Blank optional cells are None; ``locale`` defaults to zh_CN."""

    line: int
    building: str
    unit: str
    room: str
    area: Decimal | None
    role: RowRole
    name: str | None
    phone: str | None
    email: str | None
    owner_key: str | None
    co_owners: str | None
    locale: str

    @property
    def dwelling_key(self) -> tuple[str, str, str]:
        return (self.building, self.unit, self.room)


# --- columns

#: field → (name shown when the column is missing, header aliases)
FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "building": ("楼栋 (building)", ("楼栋", "栋", "幢", "楼号", "栋号", "building")),
    "unit": ("单元 (unit)", ("单元", "unit")),
    "room": ("房号 (room)", ("房号", "室", "房间号", "room")),
    "area": ("建筑面积 (area)", ("建筑面积", "面积", "area")),
    "name": ("业主姓名 (name)", ("业主姓名", "姓名", "name", "owner name", "owner_name")),
    "phone": ("联系电话 (phone)", ("联系电话", "电话", "手机", "手机号", "phone")),
    "email": ("邮箱 (email)", ("邮箱", "电子邮箱", "email", "e-mail")),
    "role": ("身份 (role)", ("身份", "role")),
    "owner_key": ("业主编号 (owner key)", ("业主编号", "owner key", "owner_key")),
    "co_owners": ("共有人 (co-owners)", ("共有人", "co-owners", "co_owners")),
    "locale": ("语言 (language)", ("语言", "language")),
}
REQUIRED = ("building", "unit", "room", "area")
MAX_LENGTH = {
    "building": 40,
    "unit": 40,
    "room": 40,
    "name": 100,
    "phone": 40,
    "email": 200,
    "owner_key": 60,
    "co_owners": 200,
}


def _alias_key(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", text.casefold())


ALIASES = {_alias_key(alias): field for field, (_shown, aliases) in FIELDS.items() for alias in aliases}

ROLES = {
    "业主": RowRole.OWNER,
    "产权人": RowRole.OWNER,
    "owner": RowRole.OWNER,
    "租户": RowRole.OCCUPANT,
    "使用人": RowRole.OCCUPANT,
    "occupant": RowRole.OCCUPANT,
    "tenant": RowRole.OCCUPANT,
    "开发商": RowRole.DEVELOPER,
    "developer": RowRole.DEVELOPER,
}
LOCALES = {
    "zh": "zh_CN",
    "zhcn": "zh_CN",
    "中文": "zh_CN",
    "简体中文": "zh_CN",
    "chinese": "zh_CN",
    "en": "en",
    "english": "en",
    "英文": "en",
    "英语": "en",
}


def column_letter(index: int) -> str:
    """The spreadsheet letter of a 0-based column index: 0 → A, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def field_of(header: str) -> str | None:
    """The field a header names, or None. Case, spaces, ``_`` and ``-`` do not matter, and a trailing
    unit in brackets or a required-marker ``*`` is allowed: "建筑面积（㎡）", "房号*"."""
    key = _alias_key(header).rstrip("*")
    if key in ALIASES:
        return ALIASES[key]
    bare = re.sub(r"\([^()]*\)$", "", key).rstrip("*")
    return ALIASES.get(bare)


# --- cells

_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_SPACES = re.compile(r"\s+")
_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")


def normalise(text: str) -> str:
    """NFKC (full-width digits and letters → ASCII), no zero-width characters, single inner spaces."""
    text = unicodedata.normalize("NFKC", _INVISIBLE.sub("", text))
    return _SPACES.sub(" ", text).strip()


#: a number format that pads whole numbers with zeros ("0000" shows 101 as 0101): room numbers, keys
_ZERO_PADDED = re.compile(r"0{2,}")


def _xlsx_text(value: object, number_format: str = "General") -> str:
    """A cell value as the text Excel shows (15 significant digits, so 93.50000000000001 is 93.5; a
    whole number in a zero-padded format with its leading zeros, as 0101)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    padded = _ZERO_PADDED.fullmatch(number_format or "")
    if padded and isinstance(value, int | float) and float(value).is_integer():
        whole = int(value)
        return ("-" if whole < 0 else "") + str(abs(whole)).zfill(len(number_format))
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return format(Decimal(format(value, ".15g")), "f")
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


# --- reading the table


def _reject(message: Any) -> RosterRejected:
    return RosterRejected([Problem(None, None, message)])


def read_table(data: bytes) -> list[tuple[int, list[str]]]:
    """The non-blank rows of the file as (row number, normalised cells), by content: XLSX (first
    sheet) or CSV in UTF-8 (with or without BOM) or GB18030/GBK. Raises RosterRejected."""
    if not data.strip(b" \t\r\n\x00" + UTF8_BOM):
        raise _reject(_l("The file is empty."))
    if data.startswith(XLS_MAGIC):
        raise _reject(_l("This is an old Excel .xls file. Save it as .xlsx or CSV and upload that."))
    rows = _xlsx_rows(data) if data.startswith(XLSX_MAGIC) else _csv_rows(_decode(data))
    table: list[tuple[int, list[str]]] = []
    for line, raw in rows:
        cells = [normalise(cell) for cell in raw]
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue
        table.append((line, cells))
        if len(table) > MAX_ROWS + 1:  # the header and MAX_ROWS data rows
            raise _reject(_l("The file has more than %(max)s rows.", max=MAX_ROWS))
    return table


def _decode(data: bytes) -> str:
    if data.startswith(UTF8_BOM):
        encodings: tuple[str, ...] = ("utf-8-sig",)
    else:
        encodings = ("utf-8", "gb18030")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise _reject(_l("Unreadable encoding. Save the file as CSV (UTF-8) or XLSX."))


def _csv_rows(text: str) -> list[tuple[int, list[str]]]:
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max((",", "\t", ";"), key=first.count)
    try:
        return list(enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1))
    except csv.Error as error:
        raise _reject(_l("The CSV file could not be read.")) from error


def _xlsx_rows(data: bytes) -> list[tuple[int, list[str]]]:
    import openpyxl

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            unpacked = sum(info.file_size for info in members)
    except zipfile.BadZipFile as error:
        raise _reject(_l("This is not a readable XLSX file.")) from error
    if unpacked > MAX_XLSX_UNPACKED or len(members) > MAX_XLSX_MEMBERS:
        raise _reject(_l("This is not a readable XLSX file."))
    rows: list[tuple[int, list[str]]] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unsupported extensions, styles: nothing the worker can act on
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                sheet = book.worksheets[0]
                sheet.reset_dimensions()  # some writers store a wrong size; read every row there is
                for line, row in enumerate(sheet.iter_rows(), start=1):
                    cells = [
                        _xlsx_text(cell.value, getattr(cell, "number_format", "General")) for cell in row
                    ]
                    if any(normalise(cell) for cell in cells):  # a sheet may hold a million blank rows
                        rows.append((line, cells))
                        if len(rows) > MAX_ROWS + 1:
                            break  # read_table rejects the file
            finally:
                book.close()
    except RosterRejected:
        raise
    except Exception as error:  # openpyxl raises many kinds on a damaged file
        raise _reject(_l("This is not a readable XLSX file.")) from error
    return rows


# --- values


def _strip_suffix(label: str, prefix: str, suffixes: str) -> str:
    """The label without its prefix and suffixes ("第1号楼" → "1"), or as given if nothing would be left."""
    bare = re.sub(rf"^(?:{prefix})\s*", "", label) if prefix else label
    pattern = re.compile(rf"\s*(?:{suffixes})$")
    while True:
        shorter = pattern.sub("", bare)
        if shorter == bare or not shorter:
            break
        bare = shorter
    return bare or label


def building_label(text: str) -> str:
    """ "1栋", "1幢", "1号楼", "1号", "第1栋" → "1"."""
    return _strip_suffix(text, "第", "号楼|栋|幢|座|号")


def unit_label(text: str) -> str:
    """ "2单元", "第2单元" → "2"."""
    return _strip_suffix(text, "第", "单元")


def room_label(text: str) -> str:
    """ "101室", "101号" → "101"."""
    return _strip_suffix(text, "", "室|号")


def person_name(text: str) -> str:
    """A name with the stray spaces between Chinese characters removed: "张 伟" → "张伟"."""
    return _CJK_GAP.sub("", text)


_AREA_UNITS = re.compile(r"\s*(?:m2|平方米|平米)$", re.IGNORECASE)
_NUMBER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[+-]?\.\d+")


def parse_area(text: str) -> tuple[Decimal | None, Any]:
    """(area, None) or (None, problem message). Accepts "85.5", "85.5m2", "85.5㎡", "85.5平方米"."""
    bare = _AREA_UNITS.sub("", text)
    if not _NUMBER.fullmatch(bare):
        return None, _l("Not an area in m²: %(value)s", value=text)
    try:
        area = Decimal(bare.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only plain numbers
        return None, _l("Not an area in m²: %(value)s", value=text)
    if area <= 0:
        return None, _l("The area must be more than 0.")
    exponent = area.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and area != area.quantize(Decimal("0.01")):
        return None, _l("The area has more than 2 decimals: %(value)s", value=text)
    if area > MAX_AREA:
        return None, _l("The area is too large (at most %(max)s).", max=MAX_AREA)
    return area.quantize(Decimal("0.01")), None


_PHONE = re.compile(r"\+?[\d\s\-().]+")


def parse_phone(text: str) -> str | None:
    """Digits and a leading +, if the text looks like a phone number (7–15 digits); else None."""
    if not _PHONE.fullmatch(text):
        return None
    digits = re.sub(r"\D", "", text)
    if not 7 <= len(digits) <= 15:
        return None
    return ("+" if text.startswith("+") else "") + digits


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


# --- the roster


def parse_roster(data: bytes) -> list[RosterRow]:
    """Every row of a valid roster file; raises RosterRejected listing every problem otherwise."""
    table = read_table(data)
    if not table:
        raise _reject(_l("The file is empty."))
    (header_line, header), body = table[0], table[1:]
    problems: list[Problem] = []
    columns = _read_header(header_line, header, body, problems)
    if not body:
        problems.append(Problem(None, None, _l("The file has no data rows.")))
    headers = {field: header[index] for field, index in columns.items()}
    rows: list[RosterRow] = []
    comparable: list[RosterRow] = []  # rows whose role and labels are known, for the checks between rows
    areas_in_doubt: set[tuple[str, str, str]] = set()
    for line, cells in body:
        start = len(problems)
        row = _read_row(line, cells, columns, headers, problems)
        if row is None:
            continue
        rows.append(row)
        bad = {p.column for p in problems[start:]}
        if "role" in columns and headers["role"] in bad:
            continue
        comparable.append(row)
        if "area" in columns and headers["area"] in bad:
            areas_in_doubt.add(row.dwelling_key)
    if all(field in columns for field in ("building", "unit", "room")):
        # with a label column missing, rows cannot be told apart: the missing column is the problem
        check_rows(
            comparable, headers, areas="area" in columns, areas_in_doubt=areas_in_doubt, problems=problems
        )
    if problems:
        position = {text: index for index, text in reversed(list(enumerate(header))) if text}

        def order(problem: Problem) -> tuple[int, int]:
            return (problem.row or 0, -1 if problem.column is None else position.get(problem.column, -1))

        raise RosterRejected(sorted(problems, key=order))
    return rows


def _read_header(
    line: int, header: list[str], body: list[tuple[int, list[str]]], problems: list[Problem]
) -> dict[str, int]:
    """field → column index; records unknown, duplicate, blank and missing columns."""
    columns: dict[str, int] = {}
    width = max([len(header), *(len(cells) for _line, cells in body)])
    for index in range(width):
        text = header[index] if index < len(header) else ""
        if not text:
            used = next((ln for ln, cells in body if index < len(cells) and cells[index]), None)
            if used is not None:
                problems.append(
                    Problem(
                        used,
                        None,
                        _l("Column %(letter)s has data but no header.", letter=column_letter(index)),
                    )
                )
            continue
        field = field_of(text)
        if field is None:
            problems.append(Problem(line, text, _l("Unknown column.")))
        elif field in columns:
            first = column_letter(columns[field])
            problems.append(
                Problem(line, text, _l("Duplicate column: the same as column %(letter)s.", letter=first))
            )
        else:
            columns[field] = index
    for field in REQUIRED:
        if field not in columns:
            problems.append(Problem(line, None, _l("Missing column %(name)s.", name=FIELDS[field][0])))
    return columns


def _read_row(
    line: int,
    cells: list[str],
    columns: Mapping[str, int],
    headers: Mapping[str, str],
    problems: list[Problem],
) -> RosterRow | None:
    """The row's values (an invalid cell's problem recorded, the value None), or None without a label."""

    def cell(field: str) -> str:
        index = columns.get(field)
        return cells[index] if index is not None and index < len(cells) else ""

    def problem(field: str, message: Any) -> None:
        problems.append(Problem(line, headers.get(field), message))

    values: dict[str, str | None] = {}
    for field in ("building", "unit", "room", "name", "phone", "email", "owner_key", "co_owners"):
        text = cell(field) or None
        if text is not None and len(text) > MAX_LENGTH[field]:
            problem(field, _l("Too long: at most %(max)s characters.", max=MAX_LENGTH[field]))
        values[field] = text
    for field, label in (("building", building_label), ("unit", unit_label), ("room", room_label)):
        text = values[field]
        if text is None:
            if field in columns:
                problem(field, _l("Missing value."))
        else:
            values[field] = label(text)
    area: Decimal | None = None
    if cell("area"):
        area, error = parse_area(cell("area"))
        if error is not None:
            problem("area", error)
    role = RowRole.OWNER
    if cell("role"):
        found = ROLES.get(cell("role").casefold())
        if found is None:
            problem("role", _l("Unknown role %(value)s: use 业主, 租户 or 开发商.", value=cell("role")))
        else:
            role = found
    locale = DEFAULT_LOCALE
    if cell("locale"):
        found_locale = LOCALES.get(_alias_key(cell("locale")))
        if found_locale is None:
            problem("locale", _l("Unknown language %(value)s: use 中文 or English.", value=cell("locale")))
        else:
            locale = found_locale
    if values["name"] is not None:
        values["name"] = person_name(values["name"])
    if values["co_owners"] is not None:
        values["co_owners"] = person_name(values["co_owners"])
    if values["phone"] is not None:
        phone = parse_phone(values["phone"])
        if phone is None:
            problem("phone", _l("Not a phone number: %(value)s", value=values["phone"]))
        values["phone"] = phone
    if values["email"] is not None and not _EMAIL.fullmatch(values["email"]):
        problem("email", _l("Not an e-mail address: %(value)s", value=values["email"]))
        values["email"] = None
    if None in (values["building"], values["unit"], values["room"]):
        return None
    return RosterRow(
        line=line,
        building=values["building"] or "",
        unit=values["unit"] or "",
        room=values["room"] or "",
        area=area,
        role=role,
        name=values["name"],
        phone=values["phone"],
        email=values["email"],
        owner_key=values["owner_key"],
        co_owners=values["co_owners"],
        locale=locale,
    )


def check_rows(
    rows: Sequence[RosterRow],
    headers: Mapping[str, str] | None = None,
    *,
    areas: bool = True,
    areas_in_doubt: Collection[tuple[str, str, str]] = (),
    problems: list[Problem] | None = None,
) -> list[Problem]:
    """The problems between rows: duplicate rooms and occupants, areas, owner keys, names.

    ``headers`` maps a field to its header text in the file (default: the field's own name). With
    ``areas=False`` (the file has no area column, already reported) dwellings without an area pass, as
    do those in ``areas_in_doubt`` (an area cell that was not a valid area, already reported).
    """
    found: list[Problem] = [] if problems is None else problems
    names = headers or {}

    def problem(row: RosterRow, field: str | None, message: Any) -> None:
        found.append(Problem(row.line, names.get(field, field) if field else None, message))

    owner_rows: dict[tuple[str, str, str], RosterRow] = {}
    first_rows: dict[tuple[str, str, str], RosterRow] = {}
    occupants: dict[tuple[str, str, str, str], RosterRow] = {}
    for row in rows:
        first_rows.setdefault(row.dwelling_key, row)
        if row.role is RowRole.OCCUPANT:
            if not row.name:
                problem(row, "name", _l("A tenant or occupant row needs a name."))
            else:
                earlier = occupants.setdefault((*row.dwelling_key, row.name), row)
                if earlier is not row:
                    problem(
                        row, "name", _l("This person is already listed in row %(row)s.", row=earlier.line)
                    )
            continue
        earlier = owner_rows.setdefault(row.dwelling_key, row)
        if earlier is not row:
            problem(row, "room", _l("Duplicate room, already in row %(row)s.", row=earlier.line))

    # the dwelling's area: its owner row's, else the first one given; every other one must agree
    dwelling_area: dict[tuple[str, str, str], tuple[Decimal, RosterRow]] = {}
    for key, row in owner_rows.items():
        if row.area is not None:
            dwelling_area[key] = (row.area, row)
    for row in rows:
        if row.area is None:
            continue
        area, source = dwelling_area.setdefault(row.dwelling_key, (row.area, row))
        if row.area != area:
            problem(
                row,
                "area",
                _l("The area differs from %(area)s given in row %(row)s.", area=area, row=source.line),
            )
    if areas:
        for key, row in first_rows.items():
            if key not in dwelling_area and key not in areas_in_doubt:
                problem(row, "area", _l("No area is given for this dwelling."))

    # owner keys: one owner per key, named once, with one phone and one e-mail
    by_key: dict[str, list[RosterRow]] = {}
    developer: RosterRow | None = None
    for row in rows:
        owner = owner_rows.get(row.dwelling_key)
        if row.role is RowRole.OWNER:
            if row.owner_key is not None:
                if row.owner_key.casefold() == DEVELOPER_KEY:
                    problem(row, "owner_key", _l("The owner key %(key)s is reserved.", key=row.owner_key))
                else:
                    by_key.setdefault(row.owner_key, []).append(row)
            elif row.name is None:
                for field in ("phone", "email", "co_owners"):
                    if getattr(row, field) is not None:
                        problem(row, field, _l("Contact details and co-owners need an owner name."))
            continue
        if row.co_owners is not None:
            problem(row, "co_owners", _l("Only an owner row takes co-owners."))
        if row.owner_key is not None and not (
            row.role is RowRole.OCCUPANT and owner is not None and owner.owner_key == row.owner_key
        ):
            problem(row, "owner_key", _l("Only an owner row takes an owner key."))
        if row.role is RowRole.DEVELOPER and row.name is not None:
            if developer is None:
                developer = row
            elif row.name != developer.name:
                problem(
                    row,
                    "name",
                    _l(
                        "The developer is named %(name)s in row %(row)s.",
                        name=developer.name,
                        row=developer.line,
                    ),
                )
    for key, keyed in by_key.items():
        named = [row for row in keyed if row.name is not None]
        if not named:
            problem(keyed[0], "name", _l("Owner key %(key)s has no owner name.", key=key))
        for field in ("name", "phone", "email"):
            given = [row for row in keyed if getattr(row, field) is not None]
            for row in given[1:]:
                if getattr(row, field) != getattr(given[0], field):
                    problem(
                        row,
                        field,
                        _l(
                            "Owner key %(key)s has a different value in row %(row)s.",
                            key=key,
                            row=given[0].line,
                        ),
                    )
    return found
