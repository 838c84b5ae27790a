"""Retention: ``flask purge`` removes the personal data of compounds whose consultation ended longer ago
than RETENTION_DAYS, keeps the tally, and leaves compounds within the period untouched."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import select

from consult.audit.models import AuditEntry
from consult.audit.services import verify_chain
from consult.compounds.models import Compound
from consult.compounds.models import Occupant
from consult.compounds.models import Owner
from consult.extensions import db
from consult.notify.models import OutboxMessage
from consult.residents.models import Invitation
from consult.residents.services import find_by_code
from consult.retention.rules import RoundEnd
from consult.retention.rules import consultation_end
from consult.retention.rules import masked_names
from consult.retention.rules import purge_due
from consult.retention.services import END_SOURCES
from consult.retention.services import STILL_OPEN
from consult.retention.services import consultation_ended_at
from consult.retention.services import register_end
from consult.rounds.models import RoundEvent
from consult.rounds.rules import Action
from consult.rounds.rules import RoundKind
from consult.rounds.rules import RoundState
from consult.rounds.services import apply
from consult.voting import services
from consult.voting.models import PaperSheet
from consult.voting.models import Proxy
from tests.voting.conftest import close_round
from tests.voting.conftest import jpeg_with_exif
from tests.voting.conftest import open_round
from tests.voting.conftest import publish_round
from tests.voting.test_services import during
from tests.voting.test_services import invitation
from tests.voting.test_services import local_day
from tests.voting.test_services import paper
from tests.voting.test_services import yes_to_all

NAMES = ("张伟", "王芳", "李娜", "陈秀英", "周建国", "陈秀英之子")
PHONES = ("13812341234", "13900001111")
EMAILS = ("zhang@example.test",)


@pytest.fixture
def standard(vote):
    questions = services.add_standard_questions(vote, "test", vote.opens_at)
    db.session.commit()
    return questions


@pytest.fixture
def finished(vote, standard, owners, cards, workers):
    """The vote held (online, on paper, by proxy) and finished; returns the round."""
    open_round(vote)
    zhang, li, chen = owners["张伟"], owners["李娜"], owners["陈秀英"]
    services.record_proxy(
        vote,
        chen,
        proxy_owner=None,
        proxy_name="陈秀英之子",
        photo=jpeg_with_exif(),
        actor="user:1",
        now=during(vote),
    )
    services.cast_online(vote, invitation(cards, "张伟"), yes_to_all(vote, zhang.id), during(vote))
    sheet = services.enter_paper(
        vote, li, paper(vote, li.id, local_day(vote)), jpeg_with_exif(), workers["a"], during(vote)
    )
    services.add_entry(sheet, paper(vote, li.id, local_day(vote)), workers["b"], during(vote, 3))
    db.session.commit()
    close_round(vote)
    publish_round(vote)
    apply(vote, Action.FINISH, "test", vote.notice_ends_at)
    db.session.commit()
    return vote


def ended_ago(round_, days: int) -> None:
    """Let time pass: the round's history moves back so that it ended ``days`` ago."""
    events = db.session.scalars(select(RoundEvent).where(RoundEvent.round_id == round_.id)).all()
    shift = max(e.at for e in events) - (datetime.now(UTC) - timedelta(days=days))
    for event in events:
        event.at = event.at - shift
    db.session.commit()


def tally(round_) -> list[tuple]:
    return [(r.question.id, repr(r.outcome), r.counts, r.channels) for r in services.count_round(round_)]


def personal_text(compound_id: int) -> str:
    """Everything the compound's people rows, proxies and outbox hold, as one text."""
    db.session.expire_all()
    rows = []
    for owner in db.session.scalars(select(Owner).where(Owner.compound_id == compound_id)):
        rows += [owner.name, owner.co_owners, owner.phone, owner.email, owner.key]
    rows += [o.name + (o.phone or "") + (o.email or "") for o in db.session.scalars(select(Occupant))]
    rows += [p.proxy_name for p in db.session.scalars(select(Proxy))]
    for message in db.session.scalars(select(OutboxMessage)):
        rows += [message.to_address, message.text_body, message.html_body]
    return " ".join(str(r) for r in rows if r)


def test_a_purged_compound_tallies_the_same_and_keeps_no_personal_data(app, runner, finished, cards, uploads):
    compound_id = finished.compound_id
    before = tally(finished)
    assert any(counts for _q, _o, counts, _c in before)
    photos = [s.photo for s in db.session.scalars(select(PaperSheet))] + [
        p.authority_photo for p in db.session.scalars(select(Proxy))
    ]
    assert len(photos) == 2
    assert all((uploads / name).is_file() for name in photos)
    text_before = personal_text(compound_id)
    assert all(value in text_before for value in (*NAMES[:1], *PHONES, *EMAILS))
    assert db.session.scalar(select(OutboxMessage.id)) is not None  # the receipt e-mailed to 张伟
    ended_ago(finished, 1096)

    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "1 compounds purged" in result.output

    assert tally(finished) == before
    leftover = personal_text(compound_id)
    for value in (*NAMES, *PHONES, *EMAILS):
        assert value not in leftover
    assert "张*" in leftover
    assert "陈*" in leftover
    assert db.session.scalar(select(Invitation.id).where(Invitation.compound_id == compound_id)) is None
    code = cards["李娜"].code
    assert find_by_code(code) is None
    assert not any((uploads / name).exists() for name in photos)
    assert all(s.photo == "" for s in db.session.scalars(select(PaperSheet)))
    assert db.session.get(Compound, compound_id).purged_at is not None
    purge_entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "retention.purged")).one()
    assert purge_entry.compound_id == compound_id
    assert verify_chain().ok
    # nothing in the audit log names a resident, or holds a phone or an e-mail
    audit_text = " ".join(a.actor + a.detail for a in db.session.scalars(select(AuditEntry)))
    for value in (*NAMES, *PHONES, *EMAILS):
        assert value not in audit_text

    again = runner.invoke(args=["purge"])
    assert "0 compounds purged" in again.output


def test_a_resident_still_signed_in_is_out_after_the_purge(app, client, runner, finished, cards):
    client.get(f"/r/{cards['张伟'].token}")
    assert client.get("/me").status_code == 200
    ended_ago(finished, 2000)
    assert runner.invoke(args=["purge"]).exit_code == 0
    assert client.get("/me").status_code == 302


def test_a_compound_within_the_period_is_untouched(app, runner, finished, uploads):
    ended_ago(finished, 1000)
    before = personal_text(finished.compound_id)
    invitations = db.session.scalar(select(db.func.count(Invitation.id)))
    result = runner.invoke(args=["purge"])
    assert "0 compounds purged" in result.output
    assert personal_text(finished.compound_id) == before
    assert db.session.scalar(select(db.func.count(Invitation.id))) == invitations
    assert len(list(uploads.iterdir())) == 2
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "retention.purged")) is None


@pytest.mark.options(RETENTION_DAYS=30)
def test_the_retention_period_is_a_setting(app, runner, finished):
    ended_ago(finished, 31)
    assert "1 compounds purged" in runner.invoke(args=["purge"]).output


def test_a_dry_run_writes_nothing(app, runner, finished, uploads):
    ended_ago(finished, 1096)
    before = personal_text(finished.compound_id)
    entries = db.session.scalar(select(db.func.count(AuditEntry.id)))
    result = runner.invoke(args=["purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Dry run: 1 compounds would be purged" in result.output
    assert personal_text(finished.compound_id) == before
    assert db.session.scalar(select(db.func.count(AuditEntry.id))) == entries
    assert db.session.get(Compound, finished.compound_id).purged_at is None
    assert len(list(uploads.iterdir())) == 2


def test_an_open_consultation_is_never_due(app, vote, standard):
    open_round(vote)
    assert consultation_ended_at(vote.compound_id) is None


def test_the_consensus_record_can_hold_the_end_back(app, finished):
    """The hook for a later end (the consensus record's approval) or for a consultation still open."""
    assert consultation_ended_at(finished.compound_id) is not None
    later = datetime.now(UTC) + timedelta(days=400)
    try:
        register_end(lambda compound_id: later)
        assert consultation_ended_at(finished.compound_id) == later
        END_SOURCES.clear()
        register_end(lambda compound_id: STILL_OPEN)
        assert consultation_ended_at(finished.compound_id) is None
    finally:
        END_SOURCES.clear()


T0 = datetime(2026, 1, 1, tzinfo=UTC)


def end(number, state, at=None, attempt=1, kind=None):
    kinds = {1: RoundKind.NEEDS, 2: RoundKind.SCHEME, 3: RoundKind.VOTE}
    return RoundEnd(number, attempt, kind or kinds[number], state, at)


def test_when_a_consultation_ended():
    done = RoundState.DONE
    day = timedelta(days=1)
    assert consultation_end([]) is None
    assert (
        consultation_end([end(1, done, T0), end(2, done, T0 + day), end(3, done, T0 + 2 * day)])
        == T0 + 2 * day
    )
    # round 2 not held yet: going on
    assert consultation_end([end(1, done, T0), end(2, RoundState.DRAFT), end(3, RoundState.DRAFT)]) is None
    # a round under way keeps it going
    assert consultation_end([end(1, done, T0), end(2, RoundState.OPEN), end(3, RoundState.DRAFT)]) is None
    # stopped at a failed round that nobody repeated
    stopped = [end(1, done, T0), end(2, RoundState.FAILED, T0 + day), end(3, RoundState.DRAFT)]
    assert consultation_end(stopped) == T0 + day
    # repeated: the new attempt counts, not the failed one
    repeated = [*stopped, end(2, RoundState.DRAFT, attempt=2)]
    assert consultation_end(repeated) is None
    assert purge_due(T0, T0 + 1095 * day, 1095)
    assert not purge_due(T0, T0 + 1095 * day - timedelta(seconds=1), 1095)
    assert not purge_due(None, T0, 0)


def test_masked_names_stay_distinct_in_a_dwelling():
    assert masked_names(["王芳", "王伟", "李四", ""]) == ["王*", "王*2", "李*", ""]
