"""A backup restored into a fresh database holds the same rows and the same audit head."""

from __future__ import annotations

from sqlalchemy import create_engine
from sqlalchemy import func
from sqlalchemy import select

from consult import create_app
from consult.audit.services import head_hash
from consult.audit.services import verify_chain
from consult.backup import restore
from consult.compounds.services import create_compound
from consult.compounds.services import ensure_district
from consult.compounds.services import ensure_street
from consult.config import database_url
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
        result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "tongxin.backup")])
        assert result.exit_code == 0, result.output
        db.engine.dispose()

    restore(tmp_path / "tongxin.backup", database_url(target_url))
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
