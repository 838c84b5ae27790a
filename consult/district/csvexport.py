"""The district's list of compounds as a CSV file that Excel opens: UTF-8 with a BOM, no formulas."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from collections.abc import Mapping
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import to_user_timezone

from consult.district.rules import csv_cell
from consult.district.rules import days_in_stage
from consult.district.services import CompoundRow
from consult.dossier.labels import label
from consult.dossier.rules import RecordStatus

#: Excel reads a CSV as UTF-8 only when it starts with the byte order mark
BOM = "\ufeff"


def header() -> list[str]:
    return [
        _("Id"),
        _("Compound"),
        _("Street"),
        _("Cluster"),
        _("Plan year"),
        _("Year built"),
        _("Dwellings"),
        _("Owners known, per cent"),
        _("Stage"),
        _("Stage code"),
        _("In this stage since"),
        _("Days in this stage"),
        _("Stuck"),
        _("Consensus record, version"),
        _("Consensus record, status"),
        _("Record status code"),
    ]


def row_cells(row: CompoundRow, now: datetime, record: tuple[int, RecordStatus] | None) -> list[object]:
    """One compound's cells; ``record``: the version of its latest consensus record and that
    version's status (``dossier.services.statuses``), None before it has one."""
    return [
        row.id,
        row.name,
        row.street,
        row.cluster or "",
        row.plan_year or "",
        row.year_built or "",
        row.coverage.dwellings,
        row.coverage.percent,
        row.stage.label,
        row.stage.key,
        to_user_timezone(row.since).date().isoformat(),
        days_in_stage(row.since, now),
        _("yes") if row.stuck else _("no"),
        *((record[0], label("status", record[1].value), record[1].value) if record else ("", "", "")),
    ]


def compounds_csv(
    rows: Iterable[CompoundRow], now: datetime, records: Mapping[int, tuple[int, RecordStatus]]
) -> bytes:
    """The rows as CSV bytes, with each compound's consensus record from ``records`` (by compound id);
    every cell is escaped against formula injection."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow([csv_cell(cell) for cell in header()])
    for row in rows:
        writer.writerow([csv_cell(cell) for cell in row_cells(row, now, records.get(row.id))])
    return (BOM + out.getvalue()).encode("utf-8")
