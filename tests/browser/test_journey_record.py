"""The consensus record's journey: a worker assembles and submits it; a district reviewer returns it with
a reason and reopens round 3; the worker sees why; the vote closes again, version 2 is submitted and the
reviewer approves it. Every page is checked with axe-core."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask

from consult import register_round_content
from consult.auth.models import Role
from consult.auth.services import create_user
from consult.compounds.services import create_compound
from consult.compounds.services import ensure_district
from consult.compounds.services import ensure_street
from consult.db import utcnow
from consult.dossier.sample import run_consultation
from consult.extensions import db
from consult.roster.parse import parse_roster
from consult.roster.services import apply_rows
from consult.rounds.rules import Action
from consult.rounds.services import apply
from tests.browser.conftest import assert_accessible
from tests.browser.conftest import screenshot
from tests.dossier.conftest import ROSTER  # every owner known: the sample plan passes

PASSWORD = "a long password for staff"


def sign_in(page: Any, email: str) -> None:
    page.context.clear_cookies()
    page.goto("/auth/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()


def test_record_is_submitted_returned_resubmitted_and_approved(page: Any, data: Flask, tmp_path) -> None:
    data.config["UPLOAD_FOLDER"] = str(tmp_path)
    register_round_content()
    street = ensure_street(ensure_district("青羊区"), "草堂街道")
    compound = create_compound(street, "浣花小区", plan_year=2022)
    apply_rows(compound, parse_roster(ROSTER.encode()), "test")
    worker = create_user("worker@example.test", "李明", PASSWORD, Role.WORKER, street)
    reviewer = create_user("reviewer@example.test", "区审", PASSWORD, Role.REVIEWER, None)
    experts = [create_user(f"e{n}@example.test", f"专家{n}", PASSWORD, Role.EXPERT, None) for n in (1, 2)]
    done = run_consultation(compound, utcnow() - timedelta(days=120), worker, reviewer, experts, turnout=1.0)
    vote = done.rounds[2]
    db.session.commit()

    # the worker assembles and submits version 1
    sign_in(page, worker.email)
    page.goto(f"/compounds/{compound.id}")
    page.get_by_role("link", name="共识记录").click()
    assert page.get_by_role("heading", level=1).inner_text() == "共识记录（一院一策）"
    page.get_by_label("每户补贴（元）").fill("1200")
    page.get_by_label("居民出资比例（百分数）").fill("30")
    page.get_by_label("维修资金续筹（元/m²）").fill("2.50")
    screenshot(page, "60-record-assemble")
    assert_accessible(page)
    page.get_by_label("我知悉：提交的版本将被封存，不能再修改。").check()
    page.get_by_role("button", name="汇编并提交区级审核").click()
    assert "第 1 版已提交区级审核" in page.get_by_role("status").inner_text()
    assert "已提交，待审核" in page.get_by_role("main").inner_text()
    screenshot(page, "61-record-version")
    assert_accessible(page)

    # the reviewer returns it, reopening round 3
    sign_in(page, reviewer.email)
    page.goto("/district/")
    page.get_by_role("link", name="待审核的共识记录：1 份").click()
    assert_accessible(page)
    page.get_by_role("link", name="浣花小区").click()
    page.get_by_label("各单元加装电梯决定").fill("2栋1单元表决率不足，请补充入户征询。")
    page.get_by_label("第三轮：表决").check()
    page.get_by_label("重新开放的天数").fill("7")
    screenshot(page, "62-record-review")
    assert_accessible(page)
    page.get_by_role("button", name="退回").click()
    assert "第 3 轮已重新开放" in page.get_by_role("status").inner_text()

    # the worker sees the reasons on the rounds page
    sign_in(page, worker.email)
    page.goto(f"/compounds/{compound.id}/rounds")
    notice = page.get_by_role("region", name="区级审核退回了共识记录")
    assert "2栋1单元表决率不足" in notice.inner_text()
    screenshot(page, "63-record-returned")
    assert_accessible(page)

    # the reopened vote closes again; version 2 goes up and is approved
    db.session.refresh(vote)
    apply(vote, Action.CLOSE, "test", vote.closes_at)
    db.session.commit()
    page.goto(f"/compounds/{compound.id}/record")
    page.get_by_label("我知悉：提交的版本将被封存，不能再修改。").check()
    page.get_by_role("button", name="汇编并提交区级审核").click()
    assert "第 2 版已提交区级审核" in page.get_by_role("status").inner_text()
    sign_in(page, reviewer.email)
    page.goto("/district/records")
    page.get_by_role("link", name="浣花小区", exact=True).click()
    page.get_by_label("我已阅读本版共识记录，代表区级审核予以通过：此决定不可撤回。").check()
    page.get_by_role("button", name="审核通过").click()
    assert "共识记录已审核通过" in page.get_by_role("status").inner_text()
    assert_accessible(page)
    page.goto("/district/")
    assert "第 2 版：已通过" in page.get_by_role("main").inner_text()
