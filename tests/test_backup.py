"""A backup restored into a fresh database holds the same rows and the same audit head; on disk it is
sealed: nothing of the database reads from it, and a changed, cut or reordered file, or another key, is
refused."""

from __future__ import annotations

import base64
import os

from sqlalchemy import create_engine
from sqlalchemy import func
from sqlalchemy import select

from consult import create_app
from consult.audit.services import head_hash
from consult.audit.services import verify_chain
from consult.backup import CHUNK
from consult.backup import MAGIC
from consult.backup import PREFIX_BYTES
from consult.backup import TAG_BYTES
from consult.backup import BackupError
from consult.backup import backup_key
from consult.backup import restore
from consult.backup import seal
from consult.backup import unseal
from consult.compounds.services import create_compound
from consult.compounds.services import ensure_district
from consult.compounds.services import ensure_street
from consult.config import database_url
from consult.crypto import data_key
from consult.extensions import db
from consult.roster.parse import parse_roster
from consult.roster.services import apply_rows
from tests.conftest import app_config

ROSTER = "楼栋,单元,房号,建筑面积,业主姓名\n1,1,101,80.50,张伟\n1,1,102,66.25,李娜\n2,1,201,90,王芳\n"


def row_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        counts = {t.name: conn.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}
    engine.dispose()
    return counts


def test_backup_then_restore_into_a_fresh_database(scratch_database, tmp_path):
    source_url, target_url = scratch_database(), scratch_database()
    app = create_app(app_config(SQLALCHEMY_DATABASE_URI=source_url))
    with app.app_context():
        db.create_all()
        compound = create_compound(ensure_street(ensure_district("青羊区"), "草堂街道"), "浣花小区")
        apply_rows(compound, parse_roster(ROSTER.encode()), "test")
        db.session.commit()
        head = head_hash()
        result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "backups" / "tongxin.backup")])
        assert result.exit_code == 0, result.output
        db.engine.dispose()

    written = (tmp_path / "backups" / "tongxin.backup").read_bytes()
    assert written.startswith(MAGIC)
    for plain in (b"SQLite format", b"PGDMP", "浣花小区".encode(), "张伟".encode(), b"dwelling"):
        assert plain not in written  # sealed: no table, name or format shows
    kept = list((tmp_path / "backups").iterdir())
    assert [p.name for p in kept] == ["tongxin.backup"]  # the unsealed copy is gone
    assert kept[0].stat().st_mode & 0o077 == 0  # readable by its owner alone
    with app.app_context():
        key = backup_key(data_key())
    restore(tmp_path / "backups" / "tongxin.backup", database_url(target_url), key)
    source_counts = row_counts(database_url(source_url))
    assert source_counts["dwelling"] == 3
    assert row_counts(database_url(target_url)) == source_counts

    restored = create_app(app_config(SQLALCHEMY_DATABASE_URI=target_url))
    with restored.app_context():
        assert head_hash() == head
        check = verify_chain()
        assert check.ok
        assert check.entries == source_counts["audit_entry"]
        db.session.remove()
        db.engine.dispose()


def test_restore_needs_confirmation(app, runner, tmp_path):
    backup_file = tmp_path / "x.backup"
    backup_file.write_bytes(b"not used")
    result = runner.invoke(args=["restore", str(backup_file)])
    assert result.exit_code == 1
    assert "--yes" in result.output


def test_a_sealed_file_opens_only_whole_unchanged_and_with_its_key(tmp_path):
    key = bytes(range(32))
    plain = tmp_path / "plain"
    plain.write_bytes(os.urandom(CHUNK * 2 + 12345))  # three chunks, the last a short one
    sealed, opened = tmp_path / "sealed", tmp_path / "opened"
    seal(plain, sealed, key)
    unseal(sealed, opened, key)
    assert opened.read_bytes() == plain.read_bytes()

    data = sealed.read_bytes()
    header, size = len(MAGIC) + PREFIX_BYTES, CHUNK + TAG_BYTES
    chunks = [data[header + i * size : header + (i + 1) * size] for i in range(3)]
    damaged = {
        "another key": (data, bytes(32)),
        "a bit flipped": (data[:-100] + bytes([data[-100] ^ 1]) + data[-99:], key),
        "the last chunk cut off": (data[: header + 2 * size], key),
        "cut short": (data[:-1], key),
        "two chunks swapped": (data[:header] + chunks[1] + chunks[0] + chunks[2], key),
    }
    refused = []
    for what, (content, with_key) in damaged.items():
        sealed.write_bytes(content)
        try:
            unseal(sealed, opened, with_key)
        except BackupError:
            refused.append(what)
    assert refused == list(damaged)


def test_an_empty_database_file_seals_and_opens(tmp_path):
    key = bytes(32)
    (tmp_path / "empty").write_bytes(b"")
    seal(tmp_path / "empty", tmp_path / "sealed", key)
    unseal(tmp_path / "sealed", tmp_path / "opened", key)
    assert (tmp_path / "opened").read_bytes() == b""


def test_a_backup_written_before_sealing_is_still_restored(tmp_path):
    import sqlite3

    old = tmp_path / "old.backup"
    with sqlite3.connect(old) as conn:
        conn.execute("CREATE TABLE note (text TEXT)")
        conn.execute("INSERT INTO note VALUES ('kept')")
    conn.close()
    restore(old, f"sqlite:///{tmp_path / 'target.sqlite'}", bytes(32))
    with sqlite3.connect(tmp_path / "target.sqlite") as conn:
        assert conn.execute("SELECT text FROM note").fetchall() == [("kept",)]
    conn.close()


def test_a_backup_written_under_a_key_since_changed_restores_with_the_old_key(scratch_database, tmp_path):
    old_key = base64.b64encode(bytes(range(32))).decode()
    new_key = base64.b64encode(bytes(range(1, 33))).decode()
    url = scratch_database()
    app = create_app(app_config(SQLALCHEMY_DATABASE_URI=url, DATA_KEY=old_key))
    file = tmp_path / "backups" / "old-key.backup"
    with app.app_context():
        db.create_all()
        compound = create_compound(ensure_street(ensure_district("青羊区"), "草堂街道"), "浣花小区")
        apply_rows(compound, parse_roster(ROSTER.encode()), "test")
        db.session.commit()
        assert app.test_cli_runner().invoke(args=["backup", str(file)]).exit_code == 0
        db.session.remove()
        db.engine.dispose()

    app.config["DATA_KEY"] = new_key
    with app.app_context():
        runner = app.test_cli_runner()
        refused = runner.invoke(args=["restore", str(file), "--yes"])
        assert refused.exit_code == 1
        assert "sealed under another key" in refused.output
        restored = runner.invoke(args=["restore", str(file), "--yes", "--old-data-key", old_key])
        assert restored.exit_code == 0, restored.output
        assert "audit entries" in restored.output
        db.session.remove()
        db.engine.dispose()
    assert row_counts(database_url(url))["dwelling"] == 3
