"""A view's change commits, or its refusal is rolled back and said: ``errors.commit_or_refuse``."""

from __future__ import annotations

import pytest
from flask import get_flashed_messages
from sqlalchemy import select

from consult.compounds.models import District
from consult.errors import ConsultError
from consult.errors import commit_or_refuse
from consult.extensions import db


class Refused(ConsultError):
    pass


def test_a_change_is_committed_and_said(app):
    with app.test_request_context():
        made = commit_or_refuse(lambda: db.session.add(District(name="青羊区")) or "added", "Done.", Refused)
        assert made == (True, "added")
        assert get_flashed_messages(with_categories=True) == [("success", "Done.")]
    db.session.rollback()  # nothing left to roll back: the change was committed
    assert db.session.scalars(select(District.name)).all() == ["青羊区"]


def test_a_refused_change_writes_nothing_and_says_why(app):
    def change() -> None:
        db.session.add(District(name="半途区"))
        db.session.flush()
        raise Refused("Not now.")

    with app.test_request_context():
        made = commit_or_refuse(change, "Done.", Refused)
        assert made.made is False
        assert made.result is None
        assert get_flashed_messages(with_categories=True) == [("error", "Not now.")]
    assert db.session.scalars(select(District.name)).all() == []


def test_another_error_is_not_taken_for_a_refusal(app):
    with app.test_request_context():
        with pytest.raises(ZeroDivisionError):  # a bug is not said as a refusal
            commit_or_refuse(lambda: 1 / 0, "Done.", Refused)
        assert get_flashed_messages() == []
