"""Pure rules: the backoff schedule, retry decisions, essential kinds, contexts, addresses."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest

from consult.notify import rules
from consult.notify.models import NoticeKind
from consult.notify.rules import RetryPolicy

S = timedelta(seconds=1)
POLICY = RetryPolicy(max_attempts=8, base=30 * S, cap=3600 * S)


def test_backoff_doubles_from_the_base_up_to_the_cap():
    assert rules.backoff_schedule(POLICY) == [30 * S, 60 * S, 120 * S, 240 * S, 480 * S, 960 * S, 1920 * S]
    capped = RetryPolicy(max_attempts=10, base=30 * S, cap=600 * S)
    assert rules.backoff_schedule(capped)[-5:] == [480 * S] + [600 * S] * 4
    assert rules.backoff_delay(10_000, POLICY) == POLICY.cap
    with pytest.raises(ValueError, match="from 1"):
        rules.backoff_delay(0, POLICY)


def test_retry_after_gives_up_at_the_last_attempt_or_on_a_refused_message():
    assert rules.retry_after(1, POLICY, retryable=True) == 30 * S
    assert rules.retry_after(7, POLICY, retryable=True) == 1920 * S
    assert rules.retry_after(8, POLICY, retryable=True) is None
    assert rules.retry_after(1, POLICY, retryable=False) is None


def test_a_servers_retry_after_is_honoured_but_capped():
    assert rules.retry_after(1, POLICY, retryable=True, server_wait=120 * S) == 120 * S
    assert rules.retry_after(3, POLICY, retryable=True, server_wait=10 * S) == 120 * S  # backoff is longer
    assert rules.retry_after(1, POLICY, retryable=True, server_wait=86400 * S) == POLICY.cap


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (None, True),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (401, True),
        (400, False),
        (413, False),
    ],
)
def test_which_answers_are_worth_a_retry(status, retryable):
    assert rules.is_retryable(status) is retryable


@pytest.mark.parametrize(
    ("header", "wait"), [("120", 120 * S), (" 5 ", 5 * S), (None, None), ("soon", None), ("-3", None)]
)
def test_retry_after_header(header, wait):
    assert rules.parse_retry_after(header) == wait


def test_essential_and_non_essential_kinds():
    essential = {k for k in NoticeKind if rules.is_essential(k)}
    assert essential == {
        NoticeKind.VOTE_RECEIVED,
        NoticeKind.PANEL_INVITATION,
        NoticeKind.PANEL_REOPENED,
        NoticeKind.RECORD_RETURNED,
        NoticeKind.RECORD_APPROVED,
        NoticeKind.PASSWORD_RESET,  # asked for, or sent by an administrator: never unsubscribed
    }
    assert set(rules.CONTEXT_KEYS) == {k.value for k in NoticeKind}


def test_context_must_have_the_required_keys_and_nothing_else():
    good = {"compound": "浣花小区", "round_number": 1, "closes_at": datetime.now(UTC), "path": "/rounds/1"}
    assert rules.context_problems("round_opened", good) == []
    with_name = {**good, "owner_name": "张伟"}
    assert rules.context_problems("round_opened", with_name) == ["unexpected 'owner_name'"]
    assert rules.context_problems("round_opened", {"compound": "x"}) == [
        "missing 'closes_at'",
        "missing 'path'",
        "missing 'round_number'",
    ]
    assert rules.context_problems("round_opened", {**good, "path": "https://evil.example/"}) != []
    assert rules.context_problems("round_opened", {**good, "path": "//evil.example/"}) != []
    assert rules.context_problems("nonsense", good) == ["unknown notice kind 'nonsense'"]
    answered = {"compound": "x", "outcome": "maybe", "path": "/c/1"}
    assert rules.context_problems("comment_answered", answered) != []


def test_addresses_are_normalised_checked_and_masked():
    assert rules.normalise_address("  Zhang.Wei@Example.COM ") == "zhang.wei@example.com"
    assert rules.is_plausible_address("a@example.test")
    for bad in ("", "a", "a@b", "a@@b.c", "a b@c.d", "a@c.d\nBcc: x@y.z", "@c.d", "a@.c"):
        assert not rules.is_plausible_address(bad), bad
    assert rules.mask_address("zhang.wei@example.com") == "z***@example.com"


def test_closing_reminder_is_due_in_the_last_two_days():
    closes = datetime(2025, 3, 10, 12, tzinfo=UTC)
    assert not rules.closing_reminder_due(closes, closes - timedelta(days=2, seconds=1))
    assert rules.closing_reminder_due(closes, closes - timedelta(days=2))
    assert rules.closing_reminder_due(closes, closes - timedelta(minutes=1))
    assert not rules.closing_reminder_due(closes, closes)


def test_a_lease_must_outlast_a_batch():
    assert rules.lease_is_long_enough(300 * S, 20, 10.0)
    assert not rules.lease_is_long_enough(100 * S, 20, 10.0)
