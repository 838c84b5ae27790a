"""Pure rules of the consensus record: its canonical JSON and digest, its status, when a version may be
assembled and submitted, and what a review decision needs. No Flask request, no database.

Canonical JSON: keys sorted, no whitespace, UTF-8 (not ``\\u`` escapes). Exact numbers only: a fraction
is written as a string ``"2/3"``, a decimal as its decimal string ``"80.50"``, a time in ISO 8601. A float
is refused, so a figure can never be rounded by the encoding.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from collections.abc import Mapping
from datetime import date
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from flask_babel import lazy_gettext as _l

#: the sections of a record, in the order the record shows them (reasons are given per section)
SECTIONS: tuple[str, ...] = (
    "profile",
    "rounds",
    "needs",
    "schemes",
    "experts",
    "comments",
    "lifts",
    "governance",
    "funding",
)

SECTION_LABELS = {
    "profile": _l("Compound profile"),
    "rounds": _l("Rounds, participation and results"),
    "needs": _l("Needs list"),
    "schemes": _l("Design schemes and versions"),
    "experts": _l("Expert scores and the panel's opinion"),
    "comments": _l("Comments and answers"),
    "lifts": _l("Lift decisions per unit"),
    "governance": _l("Governance"),
    "funding": _l("Funding"),
}

#: the rounds a return may reopen
REOPENABLE = (2, 3)
#: how long a reopened round stays open, in days: the default and the limits
REOPEN_DAYS = 14
REOPEN_DAYS_MAX = 60
#: the longest reason per section
REASON_MAX = 2000

#: the version of the snapshot's layout
FORMAT = 1


class RecordStatus(enum.StrEnum):
    SUBMITTED = "submitted"  # waiting for the district review
    RETURNED = "returned"
    APPROVED = "approved"


STATUS_LABELS = {
    RecordStatus.SUBMITTED: _l("Submitted, awaiting review"),
    RecordStatus.RETURNED: _l("Returned"),
    RecordStatus.APPROVED: _l("Approved"),
}


def status_of(decision: str | None) -> RecordStatus:
    """A version's status from its decision (None: no decision yet)."""
    return RecordStatus(decision) if decision else RecordStatus.SUBMITTED


# --- canonical JSON and the digest


def plain(value: Any) -> Any:
    """The value as JSON-ready plain data with exact numbers as strings; TypeError on a float."""
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value.value if isinstance(value, enum.Enum) else value
    if isinstance(value, float):
        raise TypeError("floats have no place in a record: use Fraction or Decimal")
    if isinstance(value, Fraction):
        return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise TypeError("not a finite number")
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"keys are strings, not {type(key).__name__}")
            out[key] = plain(item)
        return out
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    raise TypeError(f"cannot put {type(value).__name__} in a record")


def canonical(value: Any) -> bytes:
    """The canonical JSON bytes of ``value`` (see the module docstring)."""
    return json.dumps(
        plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def digest(data: bytes) -> str:
    """SHA-256 of the canonical bytes, as 64 lower-case hex digits."""
    return hashlib.sha256(data).hexdigest()


_HEX64 = re.compile(r"[0-9a-f]{64}")


def read_digest(text: str | None) -> str | None:
    """A digest as typed or scanned (spaces, dashes, capitals allowed), or None when it cannot be one."""
    if not text:
        return None
    cleaned = re.sub(r"[\s\-:]", "", text).lower()
    return cleaned if _HEX64.fullmatch(cleaned) else None


def group_digest(value: str, size: int = 8) -> str:
    """A digest in groups of eight, for reading aloud and comparing with a printed copy."""
    return " ".join(value[i : i + size] for i in range(0, len(value), size))


# --- when a version may be submitted


def assembly_blocker(
    vote_state: str | None,
    plan_passed: bool,
    latest: RecordStatus | None,
    reopened_state: str | None = None,
    vote_attempt: int = 1,
) -> Any:
    """Why a new version may not be submitted now, or None.

    ``vote_state`` is the state of the current attempt of the vote round (None: no vote round; that
    attempt's number is ``vote_attempt``), ``plan_passed`` whether its plan question passed, ``latest``
    the status of the latest version (None: none yet), and ``reopened_state`` the state of the round the
    latest return reopened."""
    if latest is RecordStatus.APPROVED:
        return _l("The record is approved: no new version is needed.")
    if latest is RecordStatus.SUBMITTED:
        return _l("The latest version is waiting for the district review.")
    if latest is RecordStatus.RETURNED and reopened_state not in ("closed", "notice", "done"):
        return _l("The round reopened by the review must close again first.")
    if vote_state == "failed":
        return _l(
            "The vote failed, or was overtaken when an earlier round was reopened: it is held again first."
        )
    if vote_state not in ("closed", "notice", "done") and vote_attempt > 1:
        return _l("The vote is held again: the record is assembled once the repeated vote has closed.")
    if vote_state not in ("closed", "notice", "done"):
        return _l("The record is assembled once the vote (round 3) has closed.")
    if not plan_passed:
        return _l("The plan was not approved in the vote: there is no consensus to record.")
    return None


# --- review decisions


def may_decide(has_decision: bool, is_latest: bool) -> bool:
    """A reviewer decides once, on the latest version."""
    return not has_decision and is_latest


def return_problems(reasons: Mapping[str, str], reopen_round: int | None, days: int | None) -> dict[str, Any]:
    """What is wrong with a return (empty when it may be recorded): field → message."""
    problems: dict[str, Any] = {}
    unknown = [key for key in reasons if key not in SECTIONS]
    if unknown:
        problems["reasons"] = _l("Unknown section.")
    given = {key: text.strip() for key, text in reasons.items() if text and text.strip()}
    if not given:
        problems["reasons"] = _l("Give the reason for the return in at least one section.")
    elif any(len(text) > REASON_MAX for text in given.values()):
        problems["reasons"] = _l("A reason is at most %(max)s characters.", max=REASON_MAX)
    if reopen_round not in REOPENABLE:
        problems["reopen_round"] = _l("Choose round 2 or round 3.")
    if days is None or not 1 <= days <= REOPEN_DAYS_MAX:
        problems["days"] = _l("Between 1 and %(max)s days.", max=REOPEN_DAYS_MAX)
    return problems


def reasons_in_order(reasons: Mapping[str, str]) -> list[tuple[str, str]]:
    """The reasons given, in the record's section order, without empty ones."""
    return [(key, reasons[key].strip()) for key in SECTIONS if reasons.get(key, "").strip()]
