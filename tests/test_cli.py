"""The command line, run through Flask's test runner as district IT would run it."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy import select

from consult.auth.models import Role
from consult.auth.models import User
from consult.compounds.models import Building
from consult.compounds.models import Compound
from consult.compounds.models import Dwelling
from consult.compounds.models import Owner
from consult.compounds.models import StairUnit
from consult.extensions import db
from consult.roster.models import RosterImport


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_seed_demo_builds_qingyang_once(app, runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "admin@tongxin.demo" in result.output
    huanhua = db.session.scalars(select(Compound).where(Compound.name == "浣花小区")).one()
    assert count(Building, Building.compound_id == huanhua.id) == 22
    dwellings = count(
        Dwelling,
        Dwelling.unit_id.in_(select(StairUnit.id).join(Building).where(Building.compound_id == huanhua.id)),
    )
    assert dwellings == 1236
    assert db.session.scalars(select(Compound).where(Compound.name == "芳邻路2号小区")).one()
    assert count(Compound) >= 24
    streets = {c.street.name for c in db.session.scalars(select(Compound))}
    assert streets == {"草堂街道", "西御河街道", "草市街街道", "少城街道", "府南街道"}
    roles = {u.role for u in db.session.scalars(select(User))}
    assert roles == set(Role)
    # owners with several dwellings exist, and there are fewer owners than owned dwellings
    assert count(Owner) < count(Dwelling, Dwelling.owner_id.is_not(None))

    total = count(Dwelling)
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0
    assert "already" in again.output
    assert count(Dwelling) == total


def test_seed_demo_refuses_outside_debug_and_testing(app, runner):
    app.testing = False
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 1
    assert "--debug" in result.output
    assert count(User) == 0
    assert count(Compound) == 0
    app.debug = True
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert count(User) > 0


def test_seed_demo_may_be_forced_in_production(app, runner):
    app.testing = False
    result = runner.invoke(args=["seed-demo", "--allow-production"])
    assert result.exit_code == 0, result.output
    assert count(User) > 0


def test_create_user_and_compound(app, runner, street):
    result = runner.invoke(
        args=[
            "create-user",
            "w@example.test",
            "--name",
            "王敏",
            "--role",
            "worker",
            "--street",
            street.name,
            "--password",
            "long enough password",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalars(select(User)).one()
    assert (user.role, user.street_id) == (Role.WORKER, street.id)

    bad = runner.invoke(
        args=[
            "create-user",
            "x@example.test",
            "--name",
            "X",
            "--role",
            "worker",
            "--password",
            "long enough password",
        ]
    )
    assert bad.exit_code == 1
    assert "street" in bad.output

    made = runner.invoke(
        args=[
            "create-compound",
            "--street",
            street.name,
            "--name",
            "清溪东路5号院",
            "--cluster",
            "清溪",
            "--plan-year",
            "2023",
        ]
    )
    assert made.exit_code == 0, made.output
    compound = db.get_or_404(Compound, int(made.output.strip()))
    assert (compound.name, compound.cluster.name, compound.plan_year) == ("清溪东路5号院", "清溪", 2023)

    dup = runner.invoke(args=["create-compound", "--street", street.name, "--name", "清溪东路5号院"])
    assert dup.exit_code == 1
    assert "already has" in dup.output


def test_import_roster_dry_run_then_real(app, runner, compound, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_bytes(
        "楼栋,单元,房号,建筑面积,业主姓名\n1,1,101,80.50,张伟\n1,2,201,66,李娜\n".encode("gb18030")
    )
    dry = runner.invoke(args=["import-roster", compound.name, str(roster), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Dry run" in dry.output
    assert count(Dwelling) == 0
    assert count(RosterImport) == 0

    real = runner.invoke(args=["import-roster", str(compound.id), str(roster)])
    assert real.exit_code == 0, real.output
    assert count(Dwelling) == 2
    assert count(StairUnit) == 2


def test_import_roster_rejects_a_bad_file_and_writes_nothing(app, runner, compound, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("楼栋,单元,房号,建筑面积,颜色\n1,1,101,-2,红\n", encoding="utf-8")
    result = runner.invoke(args=["import-roster", compound.name, str(roster)])
    assert result.exit_code == 1
    assert "颜色" in result.output
    assert "nothing was written" in result.output
    assert count(Dwelling) == 0
    assert count(Building) == 0


def test_import_roster_unknown_compound(app, runner, tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_text("building,unit,room,area\n1,1,101,50\n", encoding="utf-8")
    result = runner.invoke(args=["import-roster", "不存在小区", str(roster)])
    assert result.exit_code == 1
    assert "no compound" in result.output
