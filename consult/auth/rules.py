"""Staff password rules (pure): a minimum length, no common password, nothing of the account's own, and
nothing easy to guess (zxcvbn's estimate: keyboard rows, sequences, dates, words of its 30,000 most
common leaked passwords and of its dictionaries, with their usual substitutions)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

MIN_PASSWORD_LENGTH = 10
#: zxcvbn's score a password needs: 3 is "safely unguessable" (about 10^8 guesses or more); 0 to 4
MIN_GUESS_SCORE = 3
#: zxcvbn looks at this many characters at most (past them, a password is long enough to be judged
#: by its start)
GUESS_LENGTH = 72
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")


class PasswordProblem:
    """Why a password is refused (the caller words it for the person)."""

    TOO_SHORT = "too_short"
    COMMON = "common"
    PERSONAL = "personal"
    GUESSABLE = "guessable"


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
    if guess_score(password) < MIN_GUESS_SCORE:
        return PasswordProblem.GUESSABLE
    return None


def guess_score(password: str) -> int:
    """zxcvbn's score of the password (0 to 4) from its first ``GUESS_LENGTH`` characters."""
    from zxcvbn import zxcvbn  # its dictionaries load on first use, not with every process

    return int(zxcvbn(password[:GUESS_LENGTH])["score"])
