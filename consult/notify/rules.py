"""Pure rules of notices: which are essential, what each needs, when to try again."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import Any

#: Sent whatever the recipient chose: they answer something the recipient did or must do.
ESSENTIAL_KINDS = frozenset(
    {
        "vote_received",
        "panel_invitation",
        "panel_reopened",
        "record_returned",
        "record_approved",
        "password_reset",
    }
)

#: Notices whose text is wiped once sent: it holds a link that acts for its recipient (a new password).
WIPED_ONCE_SENT = frozenset({"password_reset"})
#: what a wiped text reads
WIPED = "[wiped once sent]"

#: Keys of each notice's context: (required, optional). Nothing else is accepted, so a caller cannot
#: slip another person's name or address into a message by accident.
CONTEXT_KEYS: Mapping[str, tuple[frozenset[str], frozenset[str]]] = {
    "round_opened": (frozenset({"compound", "round_number", "closes_at", "path"}), frozenset()),
    "round_closing": (frozenset({"compound", "round_number", "closes_at", "path"}), frozenset()),
    "comment_answered": (frozenset({"compound", "outcome", "path"}), frozenset()),
    "vote_received": (
        frozenset({"compound", "round_number", "receipt", "received_at"}),
        frozenset({"path"}),
    ),
    "panel_invitation": (frozenset({"compound", "panel", "path"}), frozenset({"respond_by"})),
    "panel_reopened": (frozenset({"compound", "panel", "reason", "path"}), frozenset()),
    "record_returned": (frozenset({"compound", "version", "reasons", "path"}), frozenset()),
    "record_approved": (frozenset({"compound", "version", "path"}), frozenset()),
    "password_reset": (frozenset({"path", "minutes"}), frozenset()),
}

#: The answers a comment can get (意见采纳情况).
COMMENT_OUTCOMES = frozenset({"adopted", "partly", "not_adopted"})

#: How long before a round closes its reminder goes out.
ROUND_CLOSING_LEAD = timedelta(days=2)

#: Answers of the mail service that will not change on a retry: the message itself was refused.
REFUSED_STATUSES = frozenset({400, 413, 415, 422})


def is_essential(kind: str) -> bool:
    return kind in ESSENTIAL_KINDS


def is_wiped_once_sent(kind: str) -> bool:
    return kind in WIPED_ONCE_SENT


def context_problems(kind: str, context: Mapping[str, Any]) -> list[str]:
    """What is wrong with the context given for a notice of ``kind`` (empty when it is fine)."""
    if kind not in CONTEXT_KEYS:
        return [f"unknown notice kind {kind!r}"]
    required, optional = CONTEXT_KEYS[kind]
    problems = [f"missing {key!r}" for key in sorted(required - context.keys())]
    problems += [f"unexpected {key!r}" for key in sorted(context.keys() - required - optional)]
    if kind == "comment_answered" and context.get("outcome", "adopted") not in COMMENT_OUTCOMES:
        problems.append(f"outcome must be one of {sorted(COMMENT_OUTCOMES)}")
    path = context.get("path")
    if path is not None and not is_site_path(path):
        problems.append("path must be a path on this site, like /rounds/12 (links use BASE_URL)")
    return problems


def is_site_path(path: object) -> bool:
    return isinstance(path, str) and path.startswith("/") and not path.startswith("//") and "\\" not in path


def normalise_address(address: str) -> str:
    """An e-mail address as stored and compared: trimmed and in lower case."""
    return address.strip().lower()


def is_plausible_address(address: str) -> bool:
    """One @, something on each side, a dot in the domain, no spaces or line breaks, at most 200 chars."""
    if not address or len(address) > 200 or any(c.isspace() for c in address) or address.count("@") != 1:
        return False
    local, domain = address.split("@")
    return bool(local) and "." in domain.strip(".") and not domain.startswith(".")


def mask_address(address: str) -> str:
    """zhang.wei@example.com → z***@example.com."""
    local, _sep, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def closing_reminder_due(closes_at: datetime, now: datetime, lead: timedelta = ROUND_CLOSING_LEAD) -> bool:
    """Whether a round closing at ``closes_at`` is within ``lead`` of closing, and still open."""
    return closes_at - lead <= now < closes_at


@dataclass(frozen=True)
class RetryPolicy:
    """At most ``max_attempts`` tries, waiting ``base``, 2×``base``, 4×``base``, … (at most ``cap``)."""

    max_attempts: int = 8
    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=1)


def backoff_delay(attempt: int, policy: RetryPolicy) -> timedelta:
    """The wait after failed attempt number ``attempt`` (1 for the first): base × 2^(attempt-1), capped."""
    if attempt < 1:
        raise ValueError("attempts are counted from 1")
    # compare exponents rather than computing 2**attempt for huge attempt numbers
    if attempt > 40:
        return policy.cap
    return min(policy.cap, policy.base * 2 ** (attempt - 1))


def backoff_schedule(policy: RetryPolicy) -> list[timedelta]:
    """The waits between all the attempts the policy allows (one fewer than ``max_attempts``)."""
    return [backoff_delay(n, policy) for n in range(1, policy.max_attempts)]


def is_retryable(status: int | None) -> bool:
    """Whether trying again may help: network errors (no status), rate limits (429), server errors (5xx),
    and also 401/403 (a key being fixed) and other 4xx; not a message the service refused as such."""
    return status not in REFUSED_STATUSES


def retry_after(
    attempts: int,
    policy: RetryPolicy,
    *,
    retryable: bool,
    server_wait: timedelta | None = None,
) -> timedelta | None:
    """How long to wait before the next attempt after ``attempts`` failed ones, or None to give up.

    A wait the server asked for (Retry-After on a 429) is honoured, but never beyond the cap.
    """
    if not retryable or attempts >= policy.max_attempts:
        return None
    delay = backoff_delay(attempts, policy)
    if server_wait is not None:
        delay = max(delay, min(server_wait, policy.cap))
    return delay


def parse_retry_after(value: str | None) -> timedelta | None:
    """The Retry-After header in seconds (the HTTP-date form is ignored: SendGrid sends seconds)."""
    if value is None:
        return None
    value = value.strip()
    if not value.isdigit():
        return None
    return timedelta(seconds=int(value))


def lease_is_long_enough(lease: timedelta, batch: int, send_timeout: float) -> bool:
    """A claim must outlast a whole batch of sends, or another worker could take over a live one."""
    return lease.total_seconds() > batch * send_timeout
