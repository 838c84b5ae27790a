"""Use-cases of the consensus record: assembling it from every round's content, freezing a version,
verifying a digest, and the district review (approve, or return and reopen a round)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func
from sqlalchemy import select

from consult.audit.services import head_hash
from consult.audit.services import record as audit
from consult.auth.models import Role
from consult.auth.models import User
from consult.auth.services import staff_name
from consult.compounds.models import Building
from consult.compounds.models import Compound
from consult.compounds.models import StairUnit
from consult.compounds.services import coverages
from consult.dossier import rules
from consult.dossier.models import ConsensusRecord
from consult.dossier.models import DecisionKind
from consult.dossier.models import RecordDecision
from consult.errors import ConsultError
from consult.extensions import db
from consult.notify.services import enqueue_to
from consult.retention.services import STILL_OPEN
from consult.retention.services import StillOpen
from consult.retention.services import register_end
from consult.rounds.models import Round
from consult.rounds.notices import residents_of
from consult.rounds.rules import RoundKind
from consult.rounds.rules import TransitionRefused
from consult.rounds.services import latest_attempts
from consult.rounds.services import participation
from consult.rounds.services import reopen
from consult.rounds.services import rounds_of
from consult.ui import colon
from consult.voting.counting import Topic


class RecordRefused(ConsultError):
    """The record cannot be submitted or decided now; the message says why."""

    def __init__(self, message: Any, problems: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.problems = dict(problems or {})


@dataclass(frozen=True)
class Funding:
    """The funding figures a worker enters when assembling (none is stored elsewhere): the subsidy per
    household (yuan), the residents' share of the cost (percent), the maintenance fund deposit (yuan/m²)."""

    subsidy_per_household: Decimal | None = None
    residents_share_percent: Decimal | None = None
    fund_deposit_per_m2: Decimal | None = None
    note: str = ""


# --- reading records


def records_of(compound_id: int) -> list[ConsensusRecord]:
    """Every version of the compound's record, the latest first."""
    return list(
        db.session.scalars(
            select(ConsensusRecord)
            .where(ConsensusRecord.compound_id == compound_id)
            .order_by(ConsensusRecord.version.desc())
        )
    )


def latest_record(compound_id: int) -> ConsensusRecord | None:
    return db.session.scalars(
        select(ConsensusRecord)
        .where(ConsensusRecord.compound_id == compound_id)
        .order_by(ConsensusRecord.version.desc())
        .limit(1)
    ).first()


@dataclass(frozen=True)
class RecordNotice:
    """What the public notice page says of the compound's latest record: no content, only where it
    stands, and the digest by which anyone checks a printed copy (``/verify``)."""

    version: int
    submitted_at: datetime
    digest: str
    status: rules.RecordStatus
    decided_at: datetime | None


def record_notice(compound_id: int) -> RecordNotice | None:
    """The latest version's standing, without loading its snapshot."""
    row = db.session.execute(
        select(
            ConsensusRecord.version,
            ConsensusRecord.submitted_at,
            ConsensusRecord.digest,
            RecordDecision.kind,
            RecordDecision.decided_at,
        )
        .outerjoin(RecordDecision, RecordDecision.record_id == ConsensusRecord.id)
        .where(ConsensusRecord.compound_id == compound_id)
        .order_by(ConsensusRecord.version.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    version, submitted_at, digest, kind, decided_at = row
    status = rules.status_of(kind.value if kind else None)
    return RecordNotice(version, submitted_at, digest, status, decided_at)


def record_version(compound_id: int, version: int) -> ConsensusRecord | None:
    return db.session.scalars(
        select(ConsensusRecord).where(
            ConsensusRecord.compound_id == compound_id, ConsensusRecord.version == version
        )
    ).first()


def status_of(record: ConsensusRecord) -> rules.RecordStatus:
    return rules.status_of(record.decision.kind.value if record.decision else None)


def content_of(record: ConsensusRecord) -> dict[str, Any]:
    return json.loads(record.snapshot)


def is_intact(record: ConsensusRecord) -> bool:
    """The stored snapshot still hashes to its digest."""
    return rules.digest(record.snapshot.encode("utf-8")) == record.digest


def find_by_digest(value: str) -> ConsensusRecord | None:
    return db.session.scalars(select(ConsensusRecord).where(ConsensusRecord.digest == value)).first()


def statuses(compound_ids: Iterable[int]) -> dict[int, tuple[int, rules.RecordStatus]]:
    """Each compound's latest version and its status (compounds without a record are left out); two
    queries whatever the number of compounds."""
    ids = list(compound_ids)
    if not ids:
        return {}
    latest = (
        select(ConsensusRecord.compound_id, func.max(ConsensusRecord.version).label("version"))
        .where(ConsensusRecord.compound_id.in_(ids))
        .group_by(ConsensusRecord.compound_id)
        .subquery()
    )
    rows = db.session.execute(
        select(ConsensusRecord.compound_id, ConsensusRecord.version, RecordDecision.kind)
        .join(
            latest,
            (latest.c.compound_id == ConsensusRecord.compound_id)
            & (latest.c.version == ConsensusRecord.version),
        )
        .outerjoin(RecordDecision, RecordDecision.record_id == ConsensusRecord.id)
    ).all()
    return {cid: (version, rules.status_of(kind.value if kind else None)) for cid, version, kind in rows}


def consultation_end(compound_id: int) -> datetime | StillOpen | None:
    """For the retention period (``retention.services.register_end``): a compound whose record waits for
    the district or was returned is not finished; an approved record ends the consultation when it was
    approved; without a record, the rounds alone say when it ended."""
    record = latest_record(compound_id)
    if record is None:
        return None
    if record.decision is None or status_of(record) is not rules.RecordStatus.APPROVED:
        return STILL_OPEN
    return record.decision.decided_at


def register_with_retention() -> None:
    register_end(consultation_end)


def review_queue() -> list[ConsensusRecord]:
    """Latest versions waiting for a decision, the oldest submission first (one query)."""
    latest = (
        select(ConsensusRecord.compound_id, func.max(ConsensusRecord.version).label("version"))
        .group_by(ConsensusRecord.compound_id)
        .subquery()
    )
    return list(
        db.session.scalars(
            select(ConsensusRecord)
            .join(
                latest,
                (latest.c.compound_id == ConsensusRecord.compound_id)
                & (latest.c.version == ConsensusRecord.version),
            )
            .outerjoin(RecordDecision, RecordDecision.record_id == ConsensusRecord.id)
            .where(RecordDecision.id.is_(None))
            .order_by(ConsensusRecord.submitted_at, ConsensusRecord.id)
        )
    )


def waiting_count() -> int:
    """How many versions wait for the district review (for the dashboard)."""
    return len(review_queue())


def recent_decisions(limit: int = 20) -> list[RecordDecision]:
    return list(
        db.session.scalars(select(RecordDecision).order_by(RecordDecision.decided_at.desc()).limit(limit))
    )


def open_return(compound_id: int) -> RecordDecision | None:
    """The return of the compound's latest version, while no newer version has been submitted."""
    latest = latest_record(compound_id)
    if latest is None or latest.decision is None or latest.decision.kind is not DecisionKind.RETURNED:
        return None
    return latest.decision


# --- assembling


def _vote_round(compound: Compound) -> Round | None:
    for round_ in reversed(latest_attempts(compound)):
        if round_.kind is RoundKind.VOTE:
            return round_
    return None


def _latest_of_kind(compound: Compound, kind: RoundKind) -> Round | None:
    for round_ in reversed(latest_attempts(compound)):
        if round_.kind is kind:
            return round_
    return None


def submit_blocker(compound: Compound) -> Any:
    """Why a new version may not be submitted now, or None."""
    from consult.voting.services import count_round

    vote = _vote_round(compound)
    plan_passed = False
    if vote is not None and vote.state.value in ("closed", "notice", "done"):
        plan_passed = any(r.question.topic is Topic.PLAN and r.outcome.passed for r in count_round(vote))
    latest = latest_record(compound.id)
    reopened_state = None
    if latest is not None and latest.decision is not None and latest.decision.reopened_round:
        for round_ in latest_attempts(compound):
            if round_.number == latest.decision.reopened_round:
                reopened_state = round_.state.value
    return rules.assembly_blocker(
        vote.state.value if vote else None,
        plan_passed,
        status_of(latest) if latest else None,
        reopened_state,
        vote.attempt if vote else 1,
    )


def _profile(compound: Compound) -> dict[str, Any]:
    cover = coverages([compound.id])[compound.id]
    buildings = db.session.scalar(select(func.count(Building.id)).where(Building.compound_id == compound.id))
    units = db.session.scalar(
        select(func.count(StairUnit.id)).join(Building).where(Building.compound_id == compound.id)
    )
    return {
        "name": compound.name,
        "district": compound.street.district.name,
        "street": compound.street.name,
        "cluster": compound.cluster.name if compound.cluster else None,
        "address": compound.address,
        "year_built": compound.year_built,
        "plan_year": compound.plan_year,
        "committee": compound.committee,
        "buildings": buildings or 0,
        "units": units or 0,
        "dwellings": cover.dwellings,
        "owners": cover.owners,
        "occupants": cover.occupants,
        "area": cover.total_area,
        "owned_area": cover.owned_area,
    }


def _rounds(compound: Compound) -> list[dict[str, Any]]:
    out = []
    for round_ in rounds_of(compound):
        part = participation(round_)
        out.append(
            {
                "number": round_.number,
                "attempt": round_.attempt,
                "kind": round_.kind,
                "state": round_.state,
                "opens_at": round_.opens_at,
                "closes_at": round_.closes_at,
                "published_at": round_.published_at,
                "notice_ends_at": round_.notice_ends_at,
                "answered": part.answered,
                "eligible": part.eligible,
                "events": [
                    {"at": e.at, "action": e.action, "to": e.to_state, "reason": e.reason}
                    for e in round_.events
                ],
            }
        )
    return out


def _needs(compound: Compound) -> dict[str, Any] | None:
    from consult.surveys import services as surveys

    round_ = _latest_of_kind(compound, RoundKind.NEEDS)
    survey = surveys.survey_of(round_) if round_ else None
    if round_ is None or survey is None:
        return None
    names = {item.code: (item.name_zh, item.name_en) for item in survey.items}
    listed = surveys.needs_list(survey)
    willing = surveys.willingness_tally(survey)
    decisions = surveys.decisions_of(survey)

    def row(code: str, **figures: Any) -> dict[str, Any]:
        decision = decisions.get(code)
        return {
            "code": code,
            "name_zh": names[code][0],
            "name_en": names[code][1],
            "decision": decision.decision if decision else None,
            "reason": decision.reason if decision else "",
            **figures,
        }

    return {
        "round": round_.number,
        "respondents": listed.respondents,
        "naming": listed.naming,
        "willingness": {
            "yes": willing.yes,
            "no": willing.no,
            "unsure": willing.unsure,
            "dwellings": willing.dwellings,
        },
        "hazards": [row(h.code, count=h.count) for h in listed.hazards],
        "categories": [
            {
                "category": category,
                "items": [row(r.code, count=r.count, share=r.share, rank=r.rank, tied=r.tied) for r in items],
            }
            for category, items in listed.by_category
        ],
    }


def _schemes(compound: Compound) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from consult.schemes import services as schemes
    from consult.schemes.models import SchemeComment

    round_ = _latest_of_kind(compound, RoundKind.SCHEME)
    if round_ is None:
        return [], []
    preferences = {scheme.id: count for scheme, count in schemes.preference_tally(round_)}
    listed = []
    for scheme in schemes.schemes_of(round_):
        listed.append(
            {
                "label": scheme.label,
                "title": scheme.title,
                "preferred_by": preferences.get(scheme.id, 0),
                "versions": [
                    {
                        "number": v.number,
                        "revision": v.revision,
                        "note": v.note,
                        "created_at": v.created_at,
                        "items": [{"title": i.title, "description": i.description} for i in v.items],
                        "documents": [{"name": d.filename, "sha256": d.sha256} for d in v.documents],
                    }
                    for v in scheme.versions
                ],
            }
        )
    comments = []
    for comment in db.session.scalars(
        select(SchemeComment).where(SchemeComment.round_id == round_.id).order_by(SchemeComment.id)
    ):
        answer = comment.answer
        version = comment.item.version
        comments.append(
            {
                "scheme": version.scheme.label,
                "version": version.number,
                "item": comment.item.title,
                "author": comment.author_role,  # owner or occupant; never who
                "body": comment.body,
                "at": comment.created_at,
                "outcome": answer.outcome if answer else None,
                "answer": answer.reason if answer else "",
                "revised_in": comment.revised_in.number if comment.revised_in else None,
            }
        )
    return listed, comments


def _experts(compound: Compound) -> list[dict[str, Any]]:
    """Every panel on the compound's scheme rounds, through the experts area's own services."""
    from consult.experts import services as experts
    from consult.experts.models import Panel

    round_ = _latest_of_kind(compound, RoundKind.SCHEME)
    if round_ is None:
        return []
    out = []
    for panel in db.session.scalars(select(Panel).where(Panel.round_id == round_.id).order_by(Panel.id)):
        found = experts.results(panel)
        labels = {s.id: s.label for s in found.schemes}
        places = {scheme: place.rank for place in found.places for scheme in place.schemes}
        results = []
        for scheme in found.schemes:
            result = found.by_scheme.get(scheme.id)
            opinion = experts.opinion_on(panel, scheme)
            results.append(
                {
                    "scheme": scheme.label,
                    "total": result.total if result else None,
                    "rank": places.get(scheme.id),
                    "disagreement": bool(result and result.disagreement),
                    "figures": {
                        key: {
                            "count": f.count,
                            "value": f.value,
                            "method": f.method,
                            "disagreement": f.disagreement,
                        }
                        for key, f in (result.figures.items() if result else ())
                    },
                    "opinion": opinion.verdict if opinion else None,
                    "required_changes": opinion.required_changes if opinion else "",
                }
            )
        out.append(
            {
                "aggregation": panel.aggregation,
                "closed_at": panel.closed_at,
                # the panel's experts: a residents' representative sits beside them, but is none
                "experts": sum(1 for m in panel.members if not m.is_resident_representative),
                "counted": found.counted,
                "criteria": [
                    {"key": c.key, "name_zh": c.name_zh, "name_en": c.name_en, "weight": c.weight}
                    for c in panel.criteria
                ],
                "results": sorted(results, key=lambda r: r["scheme"]),
                "schemes": sorted(labels.values()),
            }
        )
    return out


def _tally(t: Any) -> dict[str, Any]:
    return {
        "owners": t.owners,
        "area": t.area,
        "voters": t.voters,
        "voters_area": t.voters_area,
        "approving": t.approving,
        "approving_area": t.approving_area,
        "against": t.against,
        "abstaining": t.abstaining,
        # of the owners, the dwellings whose owner is not known (each counts as an owner who did not vote)
        "unknown": t.unknown,
        "bars": [
            {
                "name": b.name,
                "threshold": b.threshold.fraction,
                "strict": b.threshold.strict,
                "part": b.part,
                "whole": b.whole,
                "met": b.met,
            }
            for b in t.bars
        ],
    }


def _vote(compound: Compound) -> dict[str, Any] | None:
    from consult.voting.services import count_round

    round_ = _vote_round(compound)
    if round_ is None:
        return None
    questions = []
    for result in count_round(round_):
        q = result.question
        questions.append(
            {
                "position": q.position,
                "topic": q.topic,
                "kind": q.kind,
                "prompt_zh": q.prompt_zh,
                "prompt_en": q.prompt_en,
                "scope": q.scope,
                "building": q.building.label if q.building else (q.unit.building.label if q.unit else None),
                "unit": q.unit.label if q.unit else None,
                "rule": q.rule,
                "options": q.options,
                "passed": result.outcome.passed,
                "carried": result.outcome.carried,
                "counts": result.counts,
                "tallies": {key: _tally(t) for key, t in result.outcome.tallies.items()},
            }
        )
    return {"round": round_.number, "attempt": round_.attempt, "questions": questions}


def _governance(vote: dict[str, Any] | None) -> dict[str, Any]:
    questions = vote["questions"] if vote else []
    management = next((q for q in questions if q["topic"] == Topic.MANAGEMENT), None)
    pact = next((q for q in questions if q["topic"] == Topic.PACT), None)
    carried = management["carried"] if management else None
    option = next((o for o in management["options"] if o["key"] == carried), None) if management else None
    return {
        "management": carried,
        "management_zh": option["zh"] if option else None,
        "management_en": option.get("en") if option else None,
        "management_question": management["position"] if management else None,
        "pact_passed": pact["passed"] if pact else None,
        "pact_question": pact["position"] if pact else None,
    }


def _lifts(vote: dict[str, Any] | None) -> list[dict[str, Any]]:
    questions = vote["questions"] if vote else []
    out = []
    for q in questions:
        if q["topic"] != Topic.LIFT:
            continue
        main = q["tallies"]["yes"]
        out.append(
            {
                "building": q["building"],
                "unit": q["unit"],
                "question": q["position"],
                "passed": q["passed"],
                "owners": main["owners"],
                "voters": main["voters"],
                "approving": main["approving"],
                "area": main["area"],
                "voters_area": main["voters_area"],
                "approving_area": main["approving_area"],
            }
        )
    return out


def _funding(funding: Funding, vote: dict[str, Any] | None) -> dict[str, Any]:
    questions = vote["questions"] if vote else []
    question = next((q for q in questions if q["topic"] == Topic.FUNDING), None)
    return {
        "subsidy_per_household": funding.subsidy_per_household,
        "residents_share_percent": funding.residents_share_percent,
        "fund_deposit_per_m2": funding.fund_deposit_per_m2,
        "note": funding.note.strip(),
        "share_passed": question["passed"] if question else None,
        "share_question": question["position"] if question else None,
    }


def decided_by(decision: RecordDecision) -> str:
    """Who took a review decision, by name (the actor as logged when it was not a staff member)."""
    return staff_name(decision.decided_by) or decision.decided_by


def _history(compound_id: int) -> list[dict[str, Any]]:
    out = []
    for earlier in reversed(records_of(compound_id)):
        decision = earlier.decision
        out.append(
            {
                "version": earlier.version,
                "digest": earlier.digest,
                "submitted_at": earlier.submitted_at,
                "decision": decision.kind if decision else None,
                "decided_at": decision.decided_at if decision else None,
                "decided_by": decided_by(decision) if decision else None,
                "reasons": decision.reasons if decision else {},
                "reopened_round": decision.reopened_round if decision else None,
            }
        )
    return out


def assemble(compound: Compound, funding: Funding, now: datetime) -> dict[str, Any]:
    """The record's content from the compound's data as it stands (plain values, exact numbers)."""
    vote = _vote(compound)
    schemes, comments = _schemes(compound)
    sections = {
        "profile": _profile(compound),
        "rounds": _rounds(compound),
        "needs": _needs(compound),
        "schemes": schemes,
        "experts": _experts(compound),
        "comments": comments,
        "vote": vote,
        "lifts": _lifts(vote),
        "governance": _governance(vote),
        "funding": _funding(funding, vote),
    }
    return rules.plain(
        {
            "format": rules.FORMAT,
            "compound_id": compound.id,
            "assembled_at": now.replace(microsecond=0),
            "sections": sections,
            "history": _history(compound.id),
        }
    )


def preview(compound: Compound, now: datetime) -> tuple[dict[str, Any] | None, Any]:
    """What a version submitted now would hold (without the funding, entered on submitting), as a frozen
    version reads, or why there is none: only while a version may be submitted (before the vote has
    closed, its results are hidden from staff too). (content, None) or (None, the reason)."""
    blocker = submit_blocker(compound)
    if blocker:
        return None, blocker
    return json.loads(rules.canonical(assemble(compound, Funding(), now))), None


def submit_record(compound: Compound, funding: Funding, actor: str, now: datetime) -> ConsensusRecord:
    """Freeze the record as its next version: the canonical snapshot, its digest and the audit head."""
    blocker = submit_blocker(compound)
    if blocker:
        raise RecordRefused(blocker)
    return freeze(compound, funding, actor, now)


def freeze(compound: Compound, funding: Funding, actor: str, now: datetime) -> ConsensusRecord:
    """The next version as the data stands, without asking whether it may be submitted (``submit_record``
    asks); the demo and test worlds use it directly."""
    latest = latest_record(compound.id)
    version = (latest.version if latest else 0) + 1
    content = assemble(compound, funding, now)
    audit_head = head_hash()
    content.update({"version": version, "audit_head": audit_head})
    data = rules.canonical(content)
    record = ConsensusRecord(
        compound_id=compound.id,
        version=version,
        snapshot=data.decode("utf-8"),
        digest=rules.digest(data),
        audit_head=audit_head,
        submitted_at=now,
        submitted_by=actor,
    )
    db.session.add(record)
    db.session.flush()
    audit(actor, "record.submitted", compound.id, version=version, digest=record.digest)
    return record


# --- the district review


def _ensure_decidable(record: ConsensusRecord) -> None:
    latest = latest_record(record.compound_id)
    if not rules.may_decide(record.decision is not None, latest is not None and latest.id == record.id):
        raise RecordRefused(_l("This version has already been decided, or a newer one exists."))


def _workers_of(compound: Compound) -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(
                User.role == Role.WORKER, User.street_id == compound.street_id, User.active.is_(True)
            )
        )
    )


def _notify(record: ConsensusRecord, kind: str, residents: bool, now: datetime, **extra: Any) -> None:
    compound = record.compound
    base = {"compound": compound.name, "version": record.version, **extra}
    key = f"record:{record.id}:{kind}"
    for worker in _workers_of(compound):
        enqueue_to(
            worker, kind, {**base, "path": f"/compounds/{compound.id}/record"}, dedupe_key=key, now=now
        )
    if residents:
        for person in residents_of(compound.id):
            enqueue_to(person, kind, {**base, "path": f"/p/{compound.id}"}, dedupe_key=key, now=now)


def approve(record: ConsensusRecord, actor: str, now: datetime) -> RecordDecision:
    _ensure_decidable(record)
    decision = RecordDecision(
        record_id=record.id, kind=DecisionKind.APPROVED, reasons={}, decided_at=now, decided_by=actor
    )
    db.session.add(decision)
    db.session.flush()
    audit(actor, "record.review", record.compound_id, version=record.version, decision="approved")
    _notify(record, "record_approved", True, now)
    return decision


def return_record(
    record: ConsensusRecord,
    reasons: Mapping[str, str],
    reopen_round: int | None,
    days: int | None,
    show_residents: bool,
    actor: str,
    now: datetime,
) -> RecordDecision:
    """Return the version with reasons per section, and reopen the round named (through the engine)."""
    _ensure_decidable(record)
    problems = rules.return_problems(reasons, reopen_round, days)
    if problems:
        raise RecordRefused(next(iter(problems.values())), problems)
    given = dict(rules.reasons_in_order(reasons))
    target = next((r for r in latest_attempts(record.compound) if r.number == reopen_round), None)
    if target is None:
        raise RecordRefused(_l("The compound has no such round."), {"reopen_round": _l("No such round.")})
    summary = str(_l("; ")).join(f"{rules.SECTION_LABELS[k]}{colon()}{v}" for k, v in given.items())
    try:
        reopen(target, actor, now, now + timedelta(days=days or rules.REOPEN_DAYS), summary)
    except TransitionRefused as refused:
        raise RecordRefused(refused.reason, {"reopen_round": refused.reason}) from refused
    decision = RecordDecision(
        record_id=record.id,
        kind=DecisionKind.RETURNED,
        reasons=given,
        reopened_round=reopen_round,
        show_residents=show_residents,
        decided_at=now,
        decided_by=actor,
    )
    db.session.add(decision)
    db.session.flush()
    audit(
        actor,
        "record.review",
        record.compound_id,
        version=record.version,
        decision="returned",
        reopened_round=reopen_round,
        sections=sorted(given),
        show_residents=show_residents,
    )
    text = "\n".join(f"{rules.SECTION_LABELS[k]}: {v}" for k, v in given.items())
    _notify(record, "record_returned", show_residents, now, reasons=text)
    return decision


# --- the dossier PDF


def verify_url(digest: str) -> str:
    """The verification page of a digest, from the configured base URL (never the request's host)."""
    from flask import current_app

    return current_app.config["BASE_URL"].rstrip("/") + f"/verify?digest={digest}"


def dossier_pdf(record: ConsensusRecord, locale: str) -> bytes:
    from consult.dossier.pdf import Dossier
    from consult.dossier.pdf import Review
    from consult.dossier.pdf import dossier_pdf as render

    decision = record.decision
    review = None
    if decision is not None:
        review = Review(
            decision.kind.value,
            decision.decided_at,
            rules.reasons_in_order(decision.reasons),
            decision.reopened_round,
            decided_by(decision),
        )
    return render(Dossier(content_of(record), record.digest, verify_url(record.digest), review), locale)
