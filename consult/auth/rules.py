"""Staff sign-in rules (pure).

Passwords: a minimum length, no common password, nothing of the account's own, and nothing easy to guess
(zxcvbn's estimate: keyboard rows, sequences, dates, words of its 30,000 most common leaked passwords and
of its dictionaries, with their usual substitutions). Two-step sign-in: an authenticator app's codes
(TOTP), and one-time recovery codes for a lost phone."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from functools import cache
from pathlib import Path
from urllib.parse import quote

from consult.residents.rules import format_code
from consult.residents.rules import keyed_hash
from consult.residents.rules import squeezed

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


# --- two-step sign-in: time-based one-time codes (TOTP, RFC 6238) from an authenticator app

#: digits of a code, seconds a code lasts, and the steps either side of now that are accepted (a phone's
#: clock a little off, or a code typed as it changed)
TOTP_DIGITS = 6
TOTP_PERIOD = 30
TOTP_WINDOW = 1


def new_totp_secret() -> str:
    """A fresh secret shared with the app: 160 random bits, in base32 (as the apps take it)."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def _secret_bytes(secret: str) -> bytes:
    cleaned = secret.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def totp_code(secret: str, step: int) -> str:
    """The code of time step ``step`` (HOTP of RFC 4226 with the step as its counter, HMAC-SHA1)."""
    digest = hmac.new(_secret_bytes(secret), struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**TOTP_DIGITS).zfill(TOTP_DIGITS)


def time_step(now: float) -> int:
    return int(now // TOTP_PERIOD)


def accepted_step(secret: str, code: str, now: float, last_step: int | None) -> int | None:
    """The time step whose code this is, within the window around ``now`` and later than the last step
    accepted (a code works once); None when it is no such code."""
    code = code.strip().replace(" ", "")
    if len(code) != TOTP_DIGITS or not code.isdigit():
        return None
    current = time_step(now)
    for step in range(current - TOTP_WINDOW, current + TOTP_WINDOW + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp_code(secret, step), code):
            return step
    return None


def otpauth_uri(secret: str, account: str, issuer: str = "Tongxin") -> str:
    """What the app's QR code holds: the secret, the account and who issued it."""
    label = quote(f"{issuer}:{account}")
    query = f"secret={secret}&issuer={quote(issuer)}&digits={TOTP_DIGITS}&period={TOTP_PERIOD}"
    return f"otpauth://totp/{label}?{query}"


# --- recovery codes: one-time codes, typed in place of the app's code when the phone is lost

#: how many codes a person gets at once, and their letters: lower case, without those read alike (0 o 1 l i)
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_LENGTH = 10  # about 50 random bits a code


def new_recovery_code() -> str:
    """A fresh code, written as two groups of five (``k3m9q-x7ta2``), as a card's code is."""
    return format_code("".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH)))


def recovery_digest(key: bytes, typed: str) -> str | None:
    """What is kept of a recovery code: its keyed hash under ``key`` (kept outside the database), as a
    card's code is kept, from the code as typed (any case, full-width letters, with or without the dash
    and spaces); None when what was typed cannot be a recovery code."""
    cleaned = squeezed(typed).lower()
    if len(cleaned) != RECOVERY_LENGTH or any(c not in RECOVERY_ALPHABET for c in cleaned):
        return None
    return keyed_hash(key, "recovery", cleaned)


# --- staff sessions: what is shown of the device a session is on

#: (marker in the User-Agent header, name shown), the first that matches; the order matters (Edge and
#: WeChat's browser also say "Chrome", Chrome also says "Safari")
BROWSERS = (
    ("MicroMessenger", "WeChat"),
    ("Edg/", "Edge"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def device_of(user_agent: str) -> str:
    """The browser and system a User-Agent header names ("Chrome, Windows"), as far as known; "" when
    neither is."""
    browser = next((name for marker, name in BROWSERS if marker in user_agent), "")
    system = next((name for marker, name in SYSTEMS if marker in user_agent), "")
    return ", ".join(part for part in (browser, system) if part)
