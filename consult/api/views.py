"""Open data (read-only JSON, public): compounds and their stages, streets, counts. Aggregates only.

Nothing personal is ever written here: no owner or occupant, no room, phone or e-mail, no vote. Every
answer is built from ``consult.district.services``, the same figures as the district's pages.
"""

from __future__ import annotations

import json
from datetime import UTC
from datetime import datetime
from typing import Any

from flask import Blueprint
from flask import Response
from flask import abort
from flask import request
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import HTTPException
from werkzeug.routing import PathConverter

from consult.api.openapi import DEFAULT_PER_PAGE
from consult.api.openapi import MAX_ID
from consult.api.openapi import MAX_PER_PAGE
from consult.api.openapi import build_spec
from consult.district.rules import as_utc
from consult.district.rules import parse_stage
from consult.district.services import CompoundRow
from consult.district.services import Filters
from consult.district.services import RoundRow
from consult.district.services import district_rows
from consult.district.services import paginate
from consult.district.services import stage_counts
from consult.district.services import street_summaries
from consult.district.services import stuck_after_days
from consult.dossier.rules import RecordStatus
from consult.dossier.services import statuses as record_statuses
from consult.extensions import limiter
from consult.public.limits import api_limit
from consult.rounds.rules import RoundState

bp = Blueprint("api", __name__, url_prefix="/api/v1")
limiter.shared_limit(api_limit, scope="api")(bp)  # every route of the API, counted together per client


class AnyPath(PathConverter):
    """Any rest of a path, line breaks included (the path converter stops at one), so that every unknown
    address under /api/v1 gets its answer in JSON."""

    regex = r"[\s\S]+"
    part_isolating = False  # spans slashes (werkzeug would infer True from a regex without "/")


bp.record_once(lambda state: state.app.url_map.converters.setdefault("api_any", AnyPath))

#: public figures: caches may keep them a minute
CACHE_CONTROL = "public, max-age=60"


def _json(data: Any, status: int = 200) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Response(body, status=status, mimetype="application/json")


@bp.after_request
def public_headers(response: Response) -> Response:
    if response.status_code < 400:
        response.headers["Cache-Control"] = CACHE_CONTROL
    else:
        response.headers["Cache-Control"] = "no-store"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def json_error(error: HTTPException) -> Response:
    status = error.code or 500
    return _json({"error": {"status": status, "message": error.description or error.name}}, status)


# By code as well as by class: Flask prefers the application's handler for a code over a blueprint's
# handler for a class, and the application renders its error pages in HTML.
bp.register_error_handler(HTTPException, json_error)
for _code in (400, 403, 404, 405, 413, 429, 500):
    bp.register_error_handler(_code, json_error)


def _time(value: datetime | None) -> str | None:
    return None if value is None else as_utc(value).isoformat()


def compound_json(row: CompoundRow, record: tuple[int, RecordStatus] | None) -> dict[str, Any]:
    """A compound's figures; ``record``: its latest consensus record's version and status, if any."""
    return {
        "id": row.id,
        "name": row.name,
        "street_id": row.street_id,
        "street": row.street,
        "cluster_id": row.cluster_id,
        "cluster": row.cluster,
        "plan_year": row.plan_year,
        "year_built": row.year_built,
        "buildings": row.buildings,
        "dwellings": row.coverage.dwellings,
        "total_area": f"{row.coverage.total_area:.2f}",
        "stage": row.stage.key,
        "stage_since": _time(row.since),
        "record": None if record is None else {"version": record[0], "status": record[1].value},
    }


def round_json(round_: RoundRow) -> dict[str, Any]:
    return {
        "number": round_.number,
        "attempt": round_.attempt,
        "kind": round_.kind.value,
        "state": round_.state.value,
        "opens_at": _time(round_.opens_at),
        "closes_at": _time(round_.closes_at),
        "notice_ends_at": _time(round_.notice_ends_at),
        "participation": None
        if round_.state is RoundState.DRAFT
        else {"answered": round_.answered, "eligible": round_.eligible},
    }


def _int_arg(name: str, default: int | None = None, low: int | None = None, high: int | None = None) -> Any:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a whole number") from None
    if (low is not None and value < low) or (high is not None and value > high):
        raise BadRequest(f"{name} must be between {low} and {high}")
    return value


def _now() -> datetime:
    return datetime.now(UTC)


@bp.get("/")
def index() -> Response:
    return _json(
        {
            "openapi": "/api/v1/openapi.json",
            "endpoints": ["/api/v1/compounds", "/api/v1/compounds/{id}", "/api/v1/streets", "/api/v1/stages"],
        }
    )


@bp.get("/openapi.json")
def openapi() -> Response:
    return _json(build_spec())


@bp.get("/compounds")
def compounds() -> Response:
    stage_key = request.args.get("stage")
    stage = parse_stage(stage_key)
    if stage_key is not None and stage is None:
        raise BadRequest("stage is not a stage")
    filters = Filters(
        street=_int_arg("street"),
        cluster=_int_arg("cluster"),
        plan_year=_int_arg("plan_year", low=2000, high=2100),
        stage=stage.key if stage else None,
    )
    page_number = _int_arg("page", 1, 1, 100_000)
    per_page = _int_arg("per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
    rows = district_rows(_now(), stuck_after_days(), buildings=True, participation="none")
    listed = [row for row in rows if filters.match(row)]
    page = paginate(listed, page_number, per_page)
    items = page.items if page.page == page_number else []  # past the end: an empty page
    records = record_statuses(row.id for row in items)
    return _json(
        {
            "items": [compound_json(row, records.get(row.id)) for row in items],
            "page": page_number,
            "per_page": per_page,
            "pages": page.pages,
            "total": page.total,
        }
    )


@bp.get("/compounds/<int:compound_id>")
def compound(compound_id: int) -> Response:
    if not 0 < compound_id <= MAX_ID:  # the database's integers end there (SQLite overflows past 2**63)
        abort(404, description="no such compound")
    rows = district_rows(
        _now(), stuck_after_days(), compound_id=compound_id, buildings=True, participation="begun"
    )
    if not rows:
        abort(404, description="no such compound")
    row = rows[0]
    record = record_statuses([row.id]).get(row.id)
    return _json({**compound_json(row, record), "rounds": [round_json(r) for r in row.rounds]})


@bp.get("/streets")
def streets() -> Response:
    rows = district_rows(_now(), stuck_after_days(), participation="none")
    return _json(
        {
            "streets": [
                {
                    "id": s.id,
                    "name": s.name,
                    "compounds": s.compounds,
                    "dwellings": s.dwellings,
                    "consensus": s.consensus,
                }
                for s in street_summaries(rows)
            ]
        }
    )


@bp.get("/stages")
def stages() -> Response:
    rows = district_rows(_now(), stuck_after_days(), participation="none")
    return _json(
        {
            "total": len(rows),
            "stages": [{"stage": stage.key, "count": count} for stage, count in stage_counts(rows)],
        }
    )


@bp.get("/<api_any:unknown>")
def not_found(unknown: str) -> Response:
    abort(404, description="no such resource")
