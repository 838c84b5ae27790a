"""The district review's dashboard: every compound's stage, progress against the plan, the CSV export."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from typing import Any

from flask import Blueprint
from flask import Response
from flask import render_template
from flask import request

from consult.auth.decorators import role_required
from consult.auth.models import Role
from consult.district.csvexport import compounds_csv
from consult.district.rules import parse_stage
from consult.district.services import SORTS
from consult.district.services import CompoundRow
from consult.district.services import Filters
from consult.district.services import approval_summary
from consult.district.services import district_rows
from consult.district.services import filter_choices
from consult.district.services import paginate
from consult.district.services import participation_summary
from consult.district.services import progress
from consult.district.services import sort_rows
from consult.district.services import stage_counts
from consult.district.services import stuck_after_days
from consult.district.services import stuck_rows
from consult.dossier.labels import label
from consult.dossier.services import statuses as record_statuses
from consult.dossier.services import waiting_count

bp = Blueprint("district", __name__)

REVIEWERS = (Role.REVIEWER, Role.ADMIN)
PER_PAGE = 50
#: stuck compounds listed on the dashboard itself (the rest: filter "stuck")
STUCK_SHOWN = 10


def _filters() -> Filters:
    args = request.args
    stage = parse_stage(args.get("stage"))
    return Filters(
        street=args.get("street", type=int),
        cluster=args.get("cluster", type=int),
        plan_year=args.get("plan_year", type=int),
        stage=stage.key if stage else None,
        stuck=args.get("stuck") == "1",
    )


def _sort() -> tuple[str, bool]:
    sort = request.args.get("sort", "street")
    return (sort if sort in SORTS else "street"), request.args.get("dir") == "desc"


def _listed(rows: list[CompoundRow], filters: Filters) -> list[CompoundRow]:
    sort, descending = _sort()
    return sort_rows([r for r in rows if filters.match(r)], sort, descending)


@bp.get("/district/")
@role_required(*REVIEWERS)
def dashboard() -> Any:
    now = datetime.now(UTC)
    after_days = stuck_after_days()
    filters = _filters()
    sort, descending = _sort()
    rows = district_rows(now, after_days)
    placed = [r for r in rows if filters.place(r)]
    page = paginate(_listed(rows, filters), request.args.get("page", 1, type=int), PER_PAGE)
    stuck = stuck_rows(placed)
    return render_template(
        "district/dashboard.html",
        page=page,
        filters=filters,
        args=filters.args(),
        sort=sort,
        descending=descending,
        choices=filter_choices(),
        counts=stage_counts(placed),
        progress=progress(rows),
        participation=participation_summary(placed),
        approval=approval_summary(placed),
        stuck=stuck[:STUCK_SHOWN],
        stuck_total=len(stuck),
        stuck_after=after_days,
        total=len(rows),
        records=record_statuses(r.id for r in page.items),
        waiting=waiting_count(),
        record_label=label,
    )


@bp.get("/district/compounds.csv")
@role_required(*REVIEWERS)
def compounds_export() -> Any:
    now = datetime.now(UTC)
    rows = _listed(district_rows(now, stuck_after_days()), _filters())
    stamp = now.strftime("%Y%m%d")
    return Response(
        compounds_csv(rows, now, record_statuses(r.id for r in rows)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="compounds-{stamp}.csv"'},
    )
