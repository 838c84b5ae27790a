"""Time the consensus record of 浣花小区: assembling it, freezing a version, and its dossier PDF.

    .venv/bin/python bench/dossier.py [--turnout 0.9] [--seed 1] [--out dossier.pdf]  (and dossier.en.pdf)

浣花小区 as in the demo data (22 buildings, 1,236 dwellings, the demo's invented households), run through
the three rounds by ``consult.dossier.sample.run_consultation``: a survey answered by the households
taking part, two schemes with comments (one in ten of those households) and their answers, an expert
panel of three, and the vote (standard questions: the plan, the management mode, the pact, the funding
share, and a lift for every stairwell unit). The database is a new SQLite file in a temporary directory,
or DATABASE_URL (point that at an empty scratch PostgreSQL database). Setting up is not timed.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from consult import create_app
from consult import register_round_content
from consult.auth.models import Role
from consult.auth.services import create_user
from consult.compounds.services import create_compound
from consult.compounds.services import ensure_district
from consult.compounds.services import ensure_street
from consult.demo import household_rows
from consult.dossier import services
from consult.dossier.sample import FUNDING
from consult.dossier.sample import run_consultation
from consult.extensions import db
from consult.residents.cards import pdf_font
from consult.roster.services import apply_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turnout", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="tongxin-bench-")
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "MAIL_BACKEND": "memory", "UPLOAD_FOLDER": tmp})
    with app.app_context():
        db.create_all()
        register_round_content()
        started = time.perf_counter()
        street = ensure_street(ensure_district("青羊区"), "草堂街道")
        compound = create_compound(
            street, "浣花小区", year_built=1996, plan_year=2022, committee="浣花小区院委会"
        )
        rng = random.Random(args.seed)
        apply_rows(compound, household_rows(rng, 22, 1236), "bench")
        password = "bench password 123"
        worker = create_user("worker@bench.test", "李明", password, Role.WORKER, street)
        reviewer = create_user("reviewer@bench.test", "区审", password, Role.REVIEWER, None)
        experts = [create_user(f"e{n}@bench.test", f"专家{n}", password, Role.EXPERT, None) for n in range(3)]
        start = datetime.now(UTC) - timedelta(days=150)
        run_consultation(compound, start, worker, reviewer, experts, seed=args.seed, turnout=args.turnout)
        db.session.commit()
        print(f"set-up (not timed): {time.perf_counter() - started:.1f} s")

        timings: list[tuple[str, float]] = []

        def timed(name: str, fn: Callable[[], Any]) -> Any:
            t0 = time.perf_counter()
            result = fn()
            timings.append((name, time.perf_counter() - t0))
            return result

        timed("font, loaded once", pdf_font)
        funding = services.Funding(*FUNDING, "")
        content = timed(
            "assemble (all sections)", lambda: services.assemble(compound, funding, datetime.now(UTC))
        )
        record = timed(
            "freeze (checks, assemble, canonical JSON, digest)",
            lambda: services.submit_record(compound, funding, "user:bench", datetime.now(UTC)),
        )
        db.session.commit()
        pdf_zh = timed("dossier PDF, Chinese", lambda: services.dossier_pdf(record, "zh_CN"))
        pdf_en = timed("dossier PDF, English", lambda: services.dossier_pdf(record, "en"))
        if args.out:
            args.out.write_bytes(pdf_zh)
            args.out.with_suffix(".en.pdf").write_bytes(pdf_en)
        sections = content["sections"]
        questions = len(sections["vote"]["questions"])
        print(
            f"{sections['profile']['dwellings']} dwellings, {len(sections['comments'])} comments, "
            f"{questions} vote questions ({len(sections['lifts'])} lifts); "
            f"snapshot {len(record.snapshot.encode()):,} bytes"
        )
        print("| step | time |\n|---|---|")
        for name, seconds in timings:
            print(f"| {name} | {seconds:.3f} s |")
        pages_zh = pdf_zh.count(b"/Type /Page\n") or pdf_zh.count(b"/Type /Page ")
        print(f"| PDF bytes (zh / en) | {len(pdf_zh):,} / {len(pdf_en):,} |")
        if pages_zh:
            print(f"| pages (zh) | {pages_zh} |")
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
