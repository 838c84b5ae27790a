"""Time a roster import: parse, first import (apply + commit) and re-import, for CSV (GB18030) and XLSX.

    .venv/bin/python bench/roster_import.py [--dwellings 2000] [--seed 1]

The database is a new SQLite file in a temporary directory, or DATABASE_URL: point that at a scratch
database, since the bench leaves its street, compounds and audit entries there (the audit log is
append-only, so they are not deleted).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import openpyxl

from consult import create_app
from consult.compounds.services import coverages
from consult.compounds.services import create_compound
from consult.compounds.services import ensure_district
from consult.compounds.services import ensure_street
from consult.extensions import db
from consult.roster.parse import parse_roster
from consult.roster.services import import_file

HEADER = ["楼栋", "单元", "房号", "建筑面积", "业主姓名", "联系电话", "身份", "业主编号", "共有人"]
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国建华志强文红梅玉兰海燕"


def household_roster(dwellings: int, rng: random.Random) -> list[list[str]]:
    """About 40 buildings of 2–4 units, six or seven floors of two or three flats; some owners hold
    several flats under one owner key, a few flats are the developer's, some have tenants."""
    rows: list[list[str]] = []
    made = 0
    building = 0
    keyed: list[tuple[str, str]] = []
    while made < dwellings:
        building += 1
        units = rng.choice((2, 3, 4))
        floors = rng.choice((6, 7))
        per_floor = rng.choice((2, 3))
        for unit in range(1, units + 1):
            for floor in range(1, floors + 1):
                for flat in range(1, per_floor + 1):
                    if made == dwellings:
                        break
                    made += 1
                    area = Decimal(rng.randrange(4200, 13800)) / 100
                    name = rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice((1, 2))))
                    phone = (
                        f"1{rng.choice('3589')}{rng.randrange(10**8, 10**9)}" if rng.random() < 0.7 else ""
                    )
                    role, key, co_owners = "", "", ""
                    roll = rng.random()
                    if roll < 0.02:
                        role, name, phone = "开发商", "", ""
                    elif roll < 0.05:
                        name, phone = "", ""  # owner not yet known to the office
                    elif roll < 0.10 and keyed:
                        key, name = rng.choice(keyed)
                        phone = ""
                    elif roll > 0.96:
                        key = f"QY{building:02d}{unit}{floor}{flat:02d}"
                        keyed.append((key, name))
                    if name and rng.random() < 0.1:
                        co_owners = rng.choice(SURNAMES) + rng.choice(GIVEN)
                    label = (f"{building}栋", f"{unit}单元", f"{floor}{flat:02d}")
                    rows.append([*label, str(area), name, phone, role, key, co_owners])
                    if rng.random() < 0.12:
                        tenant = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
                        rows.append([*label, "", tenant, "", "租户", "", ""])
    return rows


def gb18030_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode("gb18030")


def xlsx(rows: list[list[str]]) -> bytes:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("名册")
    sheet.append(HEADER)
    for row in rows:
        sheet.append([float(cell) if i == 3 and cell else cell for i, cell in enumerate(row)])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@contextmanager
def timer(results: dict[str, float], name: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    results[name] = time.perf_counter() - start


def best_of(runs: int, action: Callable[[], Any]) -> float:
    times = []
    for __ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def run(url: str, dwellings: int, seed: int) -> None:
    rng = random.Random(seed)
    rows = household_roster(dwellings, rng)
    files = {"GB18030 CSV": gb18030_csv(rows), "XLSX": xlsx(rows)}
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    print(f"database: {url.split('@')[-1]}")
    print(f"roster:   {dwellings} dwellings, {len(rows)} rows")
    print()
    print(
        f"{'file':<12} {'size':>9} {'parse':>8} {'import':>8} {'re-import':>10} {'owners':>7} {'area m²':>12}"
    )
    with app.app_context():
        db.create_all()
        street = ensure_street(ensure_district("基准区"), f"基准街道 {time.strftime('%Y%m%d-%H%M%S')}")
        db.session.commit()
        for label, data in files.items():
            parse = best_of(3, lambda data=data: parse_roster(data))
            compound = create_compound(street, f"基准小区 {label}")
            db.session.commit()
            results: dict[str, float] = {}
            with timer(results, "import"):
                first = import_file(compound, data, "bench", "bench")
                db.session.commit()
            with timer(results, "again"):
                again = import_file(compound, data, "bench", "bench")
                db.session.commit()
            assert not again.has_changes, again
            assert first.dwellings.created == dwellings
            coverage = coverages([compound.id])[compound.id]
            print(
                f"{label:<12} {len(data) / 1024:>7.0f}kB {parse:>7.3f}s {results['import']:>7.3f}s "
                f"{results['again']:>9.3f}s {coverage.owners:>7} {coverage.total_area:>12}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dwellings", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL")
    if url:
        run(url, args.dwellings, args.seed)
        return
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{tmp}/bench.sqlite", args.dwellings, args.seed)


if __name__ == "__main__":
    main()
