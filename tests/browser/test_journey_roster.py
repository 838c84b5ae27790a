"""The first journey: a community worker signs in, opens a compound, imports a roster with an error, then
the corrected file."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func
from sqlalchemy import select

from consult.auth.models import Role
from consult.auth.services import create_user
from consult.compounds.models import Dwelling
from consult.compounds.models import Owner
from consult.compounds.services import create_compound
from consult.compounds.services import ensure_district
from consult.compounds.services import ensure_street
from consult.extensions import db
from tests.browser.conftest import assert_accessible
from tests.browser.conftest import screenshot

PASSWORD = "browser journey pw"
HEADER = "楼栋,单元,房号,建筑面积,业主姓名,联系电话,身份\n"
BAD_ROWS = (
    "１栋,１单元,１０１,８５．５,张伟,13812341234,业主\n"
    "1栋,1单元,102,0,李娜,,业主\n"  # area must be positive
    "1栋,1单元,101,85.5,王芳,,业主\n"  # the same room twice
)
GOOD_ROWS = (
    "１栋,１单元,１０１,８５．５,张伟,13812341234,业主\n"
    "1栋,1单元,102,72.30,李娜,,业主\n"
    "1栋,1单元,102,,王芳,,租户\n"
)


def count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_worker_imports_a_roster(page: Any, data: Flask) -> None:
    street = ensure_street(ensure_district("青羊区"), "草堂街道")
    compound = create_compound(street, "浣花小区", plan_year=2022)
    worker = create_user("worker@example.test", "李明", PASSWORD, Role.WORKER, street)
    db.session.commit()

    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    screenshot(page, "01-login")
    assert_accessible(page)
    page.fill("input[name=email]", worker.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()

    page.get_by_role("link", name="浣花小区").click()
    assert page.get_by_role("heading", level=1).inner_text() == "浣花小区"
    screenshot(page, "02-compound-empty")
    assert_accessible(page)

    page.get_by_role("link", name="导入名册", exact=True).click()
    page.set_input_files(
        "input[type=file]",
        files=[{"name": "名册.csv", "mimeType": "text/csv", "buffer": (HEADER + BAD_ROWS).encode("gb18030")}],
    )
    page.get_by_role("button", name="检查文件").click()
    alert = page.get_by_role("alert")
    assert "没有导入" in alert.inner_text()
    rows = alert.locator("tbody tr")
    assert rows.count() == 2
    assert rows.nth(0).locator("td").nth(0).inner_text() == "3"
    assert rows.nth(0).locator("td").nth(1).inner_text() == "建筑面积"
    assert rows.nth(1).locator("td").nth(0).inner_text() == "4"
    screenshot(page, "03-roster-errors")
    assert_accessible(page)
    db.session.rollback()
    assert count(Dwelling) == 0

    page.set_input_files(
        "input[type=file]",
        files=[
            {"name": "名册.csv", "mimeType": "text/csv", "buffer": (HEADER + GOOD_ROWS).encode("gb18030")}
        ],
    )
    page.get_by_role("button", name="检查文件").click()
    preview = page.get_by_role("main")
    assert "预览" in preview.inner_text()
    screenshot(page, "04-roster-preview")
    assert_accessible(page)
    db.session.rollback()
    assert count(Dwelling) == 0  # nothing is written before the worker confirms

    page.get_by_role("button", name="确认导入").click()
    assert page.get_by_role("heading", level=1).inner_text() == "浣花小区"
    assert "已导入名册" in page.get_by_role("status").inner_text()
    screenshot(page, "05-compound-imported")
    assert_accessible(page)
    db.session.rollback()
    assert count(Dwelling) == 2
    assert count(Owner) == 2
    areas = sorted(str(a) for a in db.session.scalars(select(Dwelling.area)))
    assert areas == ["72.30", "85.50"]
    page.goto(f"/compounds/{compound.id}")
    assert "2" in page.get_by_text("户数").first.locator("xpath=following-sibling::dd[1]").inner_text()


def test_worker_merges_two_owners_of_one_name(page: Any, data: Flask) -> None:
    """Two flats of 张伟 without an owner key: the worker finds the second from the first one's page and
    merges them, saying how they know; then separates one again."""
    from consult.roster.parse import parse_roster
    from consult.roster.services import apply_rows

    street = ensure_street(ensure_district("青羊区"), "草堂街道")
    compound = create_compound(street, "浣花小区", plan_year=2022)
    worker = create_user("worker@example.test", "李明", PASSWORD, Role.WORKER, street)
    rows = HEADER + "1栋,1单元,101,85.5,张伟,13812341234,业主\n2栋,1单元,301,60,张伟,,业主\n"
    apply_rows(compound, parse_roster(rows.encode()), "test")
    db.session.commit()

    page.goto("/auth/login")
    page.fill("input[name=email]", worker.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    page.goto(f"/compounds/{compound.id}")
    page.get_by_role("link", name="1 栋", exact=True).click()
    page.get_by_role("link", name="张伟").click()
    assert page.get_by_role("heading", level=1).inner_text() == "张伟"
    assert "2-1-301" in page.get_by_role("heading", name="同名业主").locator("xpath=..").inner_text()
    screenshot(page, "06-owner-namesake")
    assert_accessible(page)

    page.get_by_label("如何确认是同一个人").fill("身份证号相同，社区已核实")
    page.get_by_role("button", name="是同一人：合并到本业主").click()
    assert "已合并" in page.get_by_role("status").inner_text()
    assert page.get_by_role("link", name="2-1-301").count() == 1  # now this owner's
    screenshot(page, "07-owner-merged")
    assert_accessible(page)
    db.session.rollback()
    assert count(Owner) == 1

    page.get_by_label("如何确认 1-1-101 的业主是另一个人").fill("房产证姓名相同，但不是同一人")
    page.get_by_role("button", name="分开 1-1-101：其业主是另一个人").click()
    assert "已分开" in page.get_by_role("status").inner_text()
    db.session.rollback()
    assert count(Owner) == 2
