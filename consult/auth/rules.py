"""Staff password rules (pure): a minimum length, no common password, nothing of the account's own."""

from __future__ import annotations

from functools import cache
from pathlib import Path

MIN_PASSWORD_LENGTH = 10
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")


class PasswordProblem:
    """Why a password is refused (the caller words it for the person)."""

    TOO_SHORT = "too_short"
    COMMON = "common"
    PERSONAL = "personal"


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def password_problem(password: str, email: str = "", name: str = "") -> str | None:
    """None for an acceptable password, else a ``PasswordProblem`` value. Passwords are compared in lower
    case: a common password with capitals is as common. The e-mail's local part (3 characters or more),
    the whole address and the person's name (2 characters or more) may not appear in it."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return PasswordProblem.TOO_SHORT
    lowered = password.strip().lower()
    if lowered in common_passwords() or len(set(lowered)) <= 2:
        return PasswordProblem.COMMON
    local = email.strip().lower().partition("@")[0]
    words = [w for w in (local, email.strip().lower()) if len(w) >= 3]
    words += [w for w in (name.strip().lower(), name.strip().lower().replace(" ", "")) if len(w) >= 2]
    if any(word in lowered for word in words):
        return PasswordProblem.PERSONAL
    return None
