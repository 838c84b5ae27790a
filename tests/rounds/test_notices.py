"""Residents with an address hear of a round opening and, two days before it closes, of its end."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import select

from consult.extensions import db
from consult.notify.models import OutboxMessage
from consult.roster.parse import parse_roster
from consult.roster.services import apply_rows
from consult.rounds.notices import remind_closing
from consult.rounds.rules import Action
from consult.rounds.rules import TransitionRefused
from consult.rounds.services import apply
from consult.rounds.services import plan_default_rounds

NOW = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
ROSTER = (
    "楼栋,单元,房号,建筑面积,业主姓名,邮箱,身份,语言\n"
    "1,1,101,80,张伟,zw@example.test,业主,中文\n"
    "1,1,102,70,李娜,,业主,\n"
    "1,1,102,,Tom,tom@example.test,租户,English\n"
)


def messages():
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_opening_a_round_queues_a_notice_in_each_residents_language(compound):
    apply_rows(compound, parse_roster(ROSTER.encode()), "test")
    first = plan_default_rounds(compound, NOW, "test")[0]
    apply(first, Action.OPEN, "test", NOW)
    db.session.commit()
    queued = messages()
    assert sorted((m.to_address, m.locale, m.kind.value) for m in queued) == [
        ("tom@example.test", "en", "round_opened"),
        ("zw@example.test", "zh_CN", "round_opened"),
    ]
    assert "浣花小区" in next(m for m in queued if m.locale == "zh_CN").subject
    assert "李娜" not in " ".join(m.text_body for m in queued)  # nobody else's data in a notice


def test_a_refused_opening_queues_nothing(compound):
    apply_rows(compound, parse_roster(ROSTER.encode()), "test")
    second = plan_default_rounds(compound, NOW, "test")[1]
    with pytest.raises(TransitionRefused):  # round 1 is not answered yet
        apply(second, Action.OPEN, "test", NOW)
    db.session.rollback()
    assert messages() == []


def test_closing_reminders_go_out_once_two_days_before(compound, runner):
    apply_rows(compound, parse_roster(ROSTER.encode()), "test")
    first = plan_default_rounds(compound, NOW, "test")[0]
    apply(first, Action.OPEN, "test", NOW)
    db.session.commit()
    closes = first.closes_at
    assert remind_closing(closes - timedelta(days=3)) == 0
    assert remind_closing(closes - timedelta(days=1)) == 2
    remind_closing(closes - timedelta(hours=2))  # a later run finds the same two: not queued again
    db.session.commit()
    assert [m.kind.value for m in messages()].count("round_closing") == 2
    result = runner.invoke(args=["remind-closing"])
    assert result.exit_code == 0
