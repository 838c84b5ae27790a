"""With SYSLOG_ADDRESS, the app's logs and every committed audit entry go to syslog, redacted (G8)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from consult.logs import syslog_address
from consult.safety import plaintext_backends

ROOT = Path(__file__).resolve().parents[2]

APP = """
import logging, sys
from consult import create_app
from consult.audit.services import record
from consult.extensions import db
app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1], "SYSLOG_ADDRESS": sys.argv[2], "SECRET_KEY": "x"})
with app.app_context():
    db.create_all()
    record("user:1", "round.changed", None, reason="rolled back")
    db.session.rollback()
    entry = record("user:1", "ballot.cast", None, receipt="R-1")
    db.session.commit()
    print(entry.hash)
    logging.getLogger("consult.residents").warning("refused /r/SECRETCARDTOKEN123 for now")
    access = logging.getLogger("gunicorn.access")
    access.setLevel(logging.INFO)  # as gunicorn sets it up when its access log is on
    access.info('127.0.0.1 "GET /r/SECRETCARDTOKEN123 HTTP/1.1" 302')
    logging.getLogger("consult.voting").debug("below the level shipped")
"""


def receive_all(listener: socket.socket) -> list[str]:
    lines = []
    listener.settimeout(5)
    while True:
        try:
            lines.append(listener.recv(65536).decode().rstrip("\x00"))
        except TimeoutError:
            return lines
        listener.settimeout(0.5)


@pytest.mark.parametrize("kind", ["udp", "unix"])
def test_committed_audit_entries_and_the_logs_reach_syslog_redacted(tmp_path, kind):
    if kind == "udp":
        listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        listener.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{listener.getsockname()[1]}"
    else:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        address = str(tmp_path / "log.sock")
        listener.bind(address)
    with listener:
        ran = subprocess.run(
            [sys.executable, "-c", APP, f"sqlite:///{tmp_path}/a.sqlite", address],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        assert ran.returncode == 0, ran.stderr
        lines = receive_all(listener)
    head = ran.stdout.strip()
    audit = [line for line in lines if "consult.audit" in line]
    assert len(audit) == 1  # the rolled-back entry never reached the log
    assert "ballot.cast by user:1, compound None" in audit[0]
    assert audit[0].endswith(f"hash {head}")
    assert audit[0].startswith("<134>tongxin[")  # local0, informational
    assert "R-1" not in audit[0]  # the entry's detail stays in the database
    assert any("WARNING consult.residents: refused /r/[redacted]" in line for line in lines)
    assert any('INFO gunicorn.access: 127.0.0.1 "GET /r/[redacted] HTTP/1.1" 302' in line for line in lines)
    assert not any("SECRETCARDTOKEN123" in line or "below the level" in line for line in lines)


def test_a_syslog_address_is_a_socket_or_host_and_port():
    assert syslog_address("/dev/log") == "/dev/log"
    assert syslog_address("logs.internal:514") == ("logs.internal", 514)
    assert syslog_address("[::1]:514") == ("::1", 514)
    for wrong in ("logs.internal", "udp://logs.internal", ":514", "logs:port"):
        with pytest.raises(ValueError, match="SYSLOG_ADDRESS"):
            syslog_address(wrong)


def test_syslog_elsewhere_is_plaintext_unless_through_the_machines_daemon():
    base = {"SQLALCHEMY_DATABASE_URI": "sqlite://", "MAIL_BACKEND": "console"}
    assert plaintext_backends({**base, "SYSLOG_ADDRESS": "/dev/log"}) == []
    assert plaintext_backends({**base, "SYSLOG_ADDRESS": "127.0.0.1:514"}) == []
    assert plaintext_backends({**base, "SYSLOG_ADDRESS": "logs.internal:514"}) == [
        "syslog at logs.internal (send to /dev/log and let the daemon forward over TLS)"
    ]
