"""The OpenAPI 3.1 description of the open data API, built here so that it names the same stages,
parameters and limits as the code that answers."""

from __future__ import annotations

from typing import Any

from consult.dossier.rules import RecordStatus
from consult.rounds.rules import RoundKind
from consult.rounds.rules import RoundState

#: every stage key (see consult.district.rules.Stage)
STAGE_PATTERN = (
    r"^(no_roster|roster_partial|ready|consensus|round[1-9][0-9]?_(failed|open|closed|notice|done))$"
)
MAX_PER_PAGE = 500
#: the largest id there can be (a 32-bit integer column on PostgreSQL)
MAX_ID = 2**31 - 1
DEFAULT_PER_PAGE = 100

_ERROR = {"$ref": "#/components/responses/Error"}
#: more requests from one client than API_LIMIT allows
_LIMITED = {"$ref": "#/components/responses/TooManyRequests"}


def _int_query(name: str, description: str, **limits: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "integer", **limits},
    }


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _nullable_object(description: str, **properties: dict[str, Any]) -> dict[str, Any]:
    """Null, or an object holding exactly ``properties``."""
    return {
        "description": description,
        "oneOf": [
            {"type": "null"},
            {
                "type": "object",
                "additionalProperties": False,
                "required": list(properties),
                "properties": properties,
            },
        ],
    }


def _compound_properties() -> dict[str, Any]:
    return {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "street_id": {"type": "integer"},
        "street": {"type": "string"},
        "cluster_id": {"type": ["integer", "null"]},
        "cluster": {"type": ["string", "null"]},
        "plan_year": {"type": ["integer", "null"]},
        "year_built": {"type": ["integer", "null"]},
        "buildings": {"type": "integer", "minimum": 0},
        "dwellings": {"type": "integer", "minimum": 0},
        "total_area": {
            "type": "string",
            "pattern": r"^[0-9]+\.[0-9]{2}$",
            "description": "Floor area of the dwellings in the roster, m², exact to 0.01.",
        },
        "stage": {"$ref": "#/components/schemas/StageKey"},
        "stage_since": {"type": "string", "format": "date-time"},
        "record": _nullable_object(
            "The compound's consensus record (一院一策) as the district review holds it: its latest "
            "version and that version's status; null before one is submitted.",
            version={"type": "integer", "minimum": 1},
            status={"type": "string", "enum": [s.value for s in RecordStatus]},
        ),
    }


def build_spec() -> dict[str, Any]:
    compound_props = _compound_properties()
    compound_required = list(compound_props)
    filters = [
        _int_query("street", "Only the compounds of this street (its id)."),
        _int_query("cluster", "Only the compounds of this cluster (its id)."),
        _int_query("plan_year", "Only the compounds planned for this year.", minimum=2000, maximum=2100),
        {
            "name": "stage",
            "in": "query",
            "required": False,
            "description": "Only the compounds in this stage.",
            "schema": {"$ref": "#/components/schemas/StageKey"},
        },
    ]
    paging = [
        _int_query("page", "Page number, from 1.", minimum=1, maximum=100_000),
        _int_query(
            "per_page",
            f"Compounds per page (default {DEFAULT_PER_PAGE}).",
            minimum=1,
            maximum=MAX_PER_PAGE,
        ),
    ]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Tongxin open data",
            "version": "1.1.0",
            "description": (
                "Read-only figures on the renovation of old residential compounds in the district: "
                "each compound's profile and stage in the three consultation rounds (三上三下), and "
                "counts. Aggregates only: no names, rooms, phone numbers or e-mail addresses, and no "
                "vote of anyone."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "paths": {
            "/compounds": {
                "get": {
                    "operationId": "listCompounds",
                    "summary": "Every compound, with its stage",
                    "parameters": filters + paging,
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/CompoundPage"}, "One page of compounds"),
                        "400": _ERROR,
                        "429": _LIMITED,
                    },
                }
            },
            "/compounds/{compound_id}": {
                "get": {
                    "operationId": "getCompound",
                    "summary": "One compound, with its rounds and their participation",
                    "parameters": [
                        {
                            "name": "compound_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                        }
                    ],
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/CompoundDetail"}, "The compound"),
                        "404": _ERROR,
                        "429": _LIMITED,
                    },
                }
            },
            "/streets": {
                "get": {
                    "operationId": "listStreets",
                    "summary": "Every street, with its compounds, dwellings and consensus reached",
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["streets"],
                                "properties": {
                                    "streets": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/Street"},
                                    }
                                },
                            },
                            "The streets",
                        ),
                        "429": _LIMITED,
                    },
                }
            },
            "/stages": {
                "get": {
                    "operationId": "countStages",
                    "summary": "How many compounds are in each stage",
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/StageCounts"}, "Counts per stage"),
                        "429": _LIMITED,
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "StageKey": {
                    "type": "string",
                    "pattern": STAGE_PATTERN,
                    "description": (
                        "no_roster, roster_partial, ready (roster complete, no round begun), "
                        "round<N>_<failed|open|closed|notice|done>, consensus (every round done)."
                    ),
                },
                "Compound": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": compound_required,
                    "properties": compound_props,
                },
                "CompoundPage": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["items", "page", "per_page", "pages", "total"],
                    "properties": {
                        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Compound"}},
                        "page": {"type": "integer", "minimum": 1},
                        "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
                        "pages": {"type": "integer", "minimum": 1},
                        "total": {"type": "integer", "minimum": 0},
                    },
                },
                "Round": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": [
                        "number",
                        "attempt",
                        "kind",
                        "state",
                        "opens_at",
                        "closes_at",
                        "notice_ends_at",
                        "participation",
                    ],
                    "properties": {
                        "number": {"type": "integer", "minimum": 1},
                        "attempt": {"type": "integer", "minimum": 1},
                        "kind": {"type": "string", "enum": [k.value for k in RoundKind]},
                        "state": {"type": "string", "enum": [s.value for s in RoundState]},
                        "opens_at": {"type": ["string", "null"], "format": "date-time"},
                        "closes_at": {"type": ["string", "null"], "format": "date-time"},
                        "notice_ends_at": {"type": ["string", "null"], "format": "date-time"},
                        "participation": _nullable_object(
                            "Households that answered, of those that can (null in draft).",
                            answered={"type": "integer", "minimum": 0},
                            eligible={"type": "integer", "minimum": 0},
                        ),
                    },
                },
                "CompoundDetail": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": [*compound_required, "rounds"],
                    "properties": {
                        **compound_props,
                        "rounds": {"type": "array", "items": {"$ref": "#/components/schemas/Round"}},
                    },
                },
                "Street": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["id", "name", "compounds", "dwellings", "consensus"],
                    "properties": {
                        "id": {"type": "integer"},
                        "name": {"type": "string"},
                        "compounds": {"type": "integer", "minimum": 0},
                        "dwellings": {"type": "integer", "minimum": 0},
                        "consensus": {"type": "integer", "minimum": 0},
                    },
                },
                "StageCounts": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["total", "stages"],
                    "properties": {
                        "total": {"type": "integer", "minimum": 0},
                        "stages": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["stage", "count"],
                                "properties": {
                                    "stage": {"$ref": "#/components/schemas/StageKey"},
                                    "count": {"type": "integer", "minimum": 0},
                                },
                            },
                        },
                    },
                },
                "Error": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["status", "message"],
                            "properties": {
                                "status": {"type": "integer"},
                                "message": {"type": "string"},
                            },
                        }
                    },
                },
            },
            "responses": {
                "Error": _json({"$ref": "#/components/schemas/Error"}, "An error, as JSON"),
                "TooManyRequests": _json(
                    {"$ref": "#/components/schemas/Error"}, "Too many requests from this client; try later"
                ),
            },
        },
    }
