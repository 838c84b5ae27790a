"""The record's canonical JSON, its digest, and the guards of submitting and deciding, on plain values."""

from __future__ import annotations

import hashlib
from datetime import UTC
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

import pytest

from consult.dossier.rules import RecordStatus
from consult.dossier.rules import assembly_blocker
from consult.dossier.rules import canonical
from consult.dossier.rules import digest
from consult.dossier.rules import group_digest
from consult.dossier.rules import may_decide
from consult.dossier.rules import read_digest
from consult.dossier.rules import reasons_in_order
from consult.dossier.rules import return_problems
from consult.dossier.rules import status_of

pytestmark = pytest.mark.usefixtures("english_messages")


def test_canonical_json_sorts_keys_has_no_whitespace_and_keeps_chinese_as_utf8():
    data = canonical({"b": 1, "a": {"名称": "浣花小区", "z": [True, None]}})
    assert data == '{"a":{"z":[true,null],"名称":"浣花小区"},"b":1}'.encode()


def test_exact_numbers_are_strings_and_floats_are_refused():
    data = canonical(
        {
            "share": Fraction(2, 3),
            "whole": Fraction(4, 2),
            "area": Decimal("80.50"),
            "at": datetime(2026, 11, 27, 9, 0, tzinfo=UTC),
        }
    )
    assert data == b'{"area":"80.50","at":"2026-11-27T09:00:00+00:00","share":"2/3","whole":"2"}'
    with pytest.raises(TypeError, match="float"):
        canonical({"share": 0.6667})
    with pytest.raises(TypeError):
        canonical({1: "a key that is not a string"})


def test_the_digest_is_sha256_of_the_canonical_bytes():
    data = canonical({"a": 1})
    assert digest(data) == hashlib.sha256(b'{"a":1}').hexdigest()
    assert digest(canonical({"a": 2})) != digest(data)


def test_a_digest_is_read_as_typed_or_printed_in_groups():
    value = hashlib.sha256(b"x").hexdigest()
    assert read_digest(group_digest(value).upper()) == value
    assert read_digest(" " + value[:32] + "-" + value[32:]) == value
    assert read_digest(value[:-1]) is None
    assert read_digest("z" * 64) is None
    assert read_digest("") is None


def test_status_follows_the_decision():
    assert status_of(None) is RecordStatus.SUBMITTED
    assert status_of("returned") is RecordStatus.RETURNED
    assert status_of("approved") is RecordStatus.APPROVED


@pytest.mark.parametrize(
    ("vote", "plan", "latest", "reopened", "why"),
    [
        (None, False, None, None, "vote"),
        ("open", False, None, None, "vote"),
        ("closed", False, None, None, "not approved"),
        ("closed", True, RecordStatus.SUBMITTED, None, "waiting"),
        ("done", True, RecordStatus.APPROVED, None, "approved"),
        ("done", True, RecordStatus.RETURNED, "open", "close again"),
    ],
)
def test_when_a_version_may_not_be_submitted(vote, plan, latest, reopened, why):
    assert why in str(assembly_blocker(vote, plan, latest, reopened))


def test_after_a_failed_vote_the_record_waits_for_the_repeat_to_close():
    assert "held again" in str(assembly_blocker("failed", False, None))
    assert "repeated vote has closed" in str(assembly_blocker("draft", False, None, vote_attempt=2))
    assert "repeated vote has closed" in str(assembly_blocker("open", False, None, vote_attempt=2))
    assert assembly_blocker("closed", True, None, vote_attempt=2) is None


@pytest.mark.parametrize("vote", ["closed", "notice", "done"])
def test_a_version_is_submitted_after_a_passing_vote_or_once_the_reopened_round_closed_again(vote):
    assert assembly_blocker(vote, True, None) is None
    assert assembly_blocker(vote, True, RecordStatus.RETURNED, "closed") is None


def test_a_reviewer_decides_once_on_the_latest_version():
    assert may_decide(has_decision=False, is_latest=True)
    assert not may_decide(has_decision=True, is_latest=True)
    assert not may_decide(has_decision=False, is_latest=False)


def test_a_return_needs_a_reason_a_round_to_reopen_and_days():
    assert return_problems({"needs": "需补充安全隐患处置"}, 2, 14) == {}
    problems = return_problems({"needs": "  "}, 1, 0)
    assert set(problems) == {"reasons", "reopen_round", "days"}
    assert "reasons" in return_problems({"nonsense": "x"}, 3, 14)
    assert "reasons" in return_problems({"funding": "x" * 2001}, 3, 14)


def test_reasons_come_in_the_record_s_section_order_without_empty_ones():
    reasons = {"funding": "补贴标准", "profile": "  ", "rounds": "第二轮日期"}
    assert reasons_in_order(reasons) == [("rounds", "第二轮日期"), ("funding", "补贴标准")]


def test_every_action_of_a_rounds_history_has_words_in_the_record(app):
    """The PDF's "reasons recorded" names each act of the round engine in the reader's language."""
    from flask_babel import force_locale

    from consult.dossier.labels import LABELS
    from consult.dossier.labels import label
    from consult.rounds.rules import OVERTAKEN
    from consult.rounds.rules import Action

    written = {action.value for action in Action} | {"plan", "repeat", OVERTAKEN}
    assert written <= set(LABELS["action"])
    with force_locale("zh_CN"):
        assert label("action", "overtaken") == "前面的轮次重新开放，本轮结果不再有效，将重新进行"
        assert label("action", "reopen") != "reopen"
