"""The expert panel's journey: a district reviewer forms the panel from the round 2 page (the invitations go
through the outbox); each expert signs in, sees only their panel, declares conflicts, scores with the scheme's
documents beside the score sheet and submits, and only then sees the others' scores; the chair writes the
panel's opinion and closes the panel; the results show the ranking and both charts; the public answer page
shows the conclusion without a name. Every expert page is checked with axe at both widths."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import Any

from flask import Flask
from PIL import Image
from sqlalchemy import select

from consult.auth.models import Role
from consult.auth.services import create_user
from consult.compounds.services import create_compound
from consult.compounds.services import ensure_district
from consult.compounds.services import ensure_street
from consult.db import utcnow
from consult.experts import services as experts
from consult.extensions import db
from consult.notify.models import OutboxMessage
from consult.rounds.rules import RoundKind
from consult.rounds.rules import RoundState
from consult.rounds.services import plan_default_rounds
from consult.schemes import services as schemes
from tests.browser.conftest import assert_accessible
from tests.browser.conftest import screenshot

PASSWORD = "expert journey pw"
PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
    b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)
CRITERIA = ("安全", "功能", "造价", "可实施性", "外观", "长效维护")


def png() -> bytes:
    out = BytesIO()
    Image.new("RGB", (240, 160), "#c8d8e8").save(out, "PNG")
    return out.getvalue()


def scheme_round_of(compound: Any) -> Any:
    rounds = plan_default_rounds(compound, utcnow(), "test")
    return next(r for r in rounds if r.kind is RoundKind.SCHEME)


def sign_in(page: Any, email: str) -> None:
    page.goto("/auth/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="退出登录").click()


def score_scheme(page: Any, value: int, note: str) -> None:
    for name in CRITERIA:
        page.get_by_label(f"{name}（0–10 分，权重").fill(str(value))
    page.get_by_label("关于安全的意见").fill(note)
    page.get_by_role("button", name="保存我的评分").click()


def test_expert_panel_journey(page: Any, data: Flask, tmp_path: Path) -> None:
    data.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    street = ensure_street(ensure_district("青羊区"), "草堂街道")
    compound = create_compound(street, "清溪东路5号院")
    round_ = scheme_round_of(compound)
    a = schemes.add_scheme(round_, "北侧加装电梯", "test")
    schemes.add_item(a.latest, "北侧电梯井", "钢结构电梯井，贴北墙。", "test")
    schemes.add_document(a.latest, png(), "立面图.png", "test", utcnow())
    schemes.add_document(a.latest, PDF, "结构计算书.pdf", "test", utcnow())
    b = schemes.add_scheme(round_, "南侧加装电梯", "test")
    schemes.add_item(b.latest, "南侧电梯井", "混凝土电梯井。", "test")
    reviewer = create_user("review@example.test", "王审", PASSWORD, Role.REVIEWER, None)
    chair = create_user("zhang@example.test", "张工", PASSWORD, Role.EXPERT, None)
    second = create_user("li@example.test", "李工", PASSWORD, Role.EXPERT, None)
    outsider = create_user("zhao@example.test", "赵工", PASSWORD, Role.EXPERT, None)
    representative = create_user("sun@example.test", "孙阿姨", PASSWORD, Role.EXPERT, None)
    # another compound's panel, which the experts of this journey are not on
    other = create_compound(street, "浣花北路2号院")
    other_panel = experts.form_panel(scheme_round_of(other), outsider, [outsider], reviewer)
    db.session.commit()

    # the reviewer forms the panel from the round 2 page
    sign_in(page, reviewer.email)
    page.goto(f"/compounds/{compound.id}/rounds/{round_.id}/schemes")
    page.get_by_role("link", name="组建专家组").click()
    page.get_by_label("专家", exact=True).select_option([str(chair.id), str(second.id)])
    page.get_by_label("组长").select_option(str(chair.id))
    page.get_by_label("居民代表", exact=False).select_option(str(representative.id))
    screenshot(page, "50-form-panel")
    assert_accessible(page)
    page.get_by_role("button", name="组建专家组").click()
    assert "专家组已组建" in page.get_by_role("status").inner_text()
    assert_accessible(page)
    db.session.rollback()
    invited = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "panel_invitation")).all()
    assert len(invited) == 4  # three here, one on the other compound's panel
    panel = experts.panel_of(round_)
    assert panel is not None
    sign_out(page)

    # the chair scores both schemes and submits
    sign_in(page, chair.email)
    page.goto("/")
    assert page.get_by_role("heading", level=1).inner_text() == "专家组"
    assert_accessible(page)
    page.get_by_role("link", name="清溪东路5号院第2轮专家组").click()
    for _scheme in (a, b):
        page.get_by_role("link", name="申报利益冲突").first.click()
        page.get_by_label("没有利益冲突").check()
        page.get_by_role("button", name="申报", exact=True).click()
        score_scheme(page, 8 if _scheme is a else 7, "CHAIR-NOTE")
    page.get_by_role("button", name="提交我的评分").click()
    sign_out(page)

    # the second expert sees only their panel, declares, scores with the documents beside the sheet
    sign_in(page, second.email)
    page.goto("/")
    main = page.get_by_role("main")
    assert "清溪东路5号院" in main.inner_text()
    assert "浣花北路2号院" not in main.inner_text()
    assert page.goto(f"/experts/panels/{other_panel.id}").status == 404
    page.goto("/experts")
    page.get_by_role("link", name="清溪东路5号院第2轮专家组").click()
    panel_url = page.url
    assert_accessible(page)
    screenshot(page, "51-panel")
    assert "CHAIR-NOTE" not in page.content()
    page.goto(f"/experts/panels/{panel.id}/results")  # not before submitting: back to the panel, told why
    assert page.url == panel_url
    assert "您提交评分后，才能看到专家组的结果。" in page.locator(".flash").inner_text()
    assert "CHAIR-NOTE" not in page.content()
    page.get_by_role("link", name="申报利益冲突").first.click()
    assert_accessible(page)
    screenshot(page, "52-conflict")
    page.get_by_label("没有利益冲突").check()
    page.get_by_role("button", name="申报", exact=True).click()
    # the score sheet: the scheme's items, drawing and report beside it
    panes = page.locator(".side-by-side > .pane")
    assert "北侧电梯井" in panes.nth(0).inner_text()
    picture = page.locator(".scheme-documents img")
    picture.scroll_into_view_if_needed()
    page.wait_for_function("document.querySelector('.scheme-documents img').naturalWidth > 0")
    report = page.get_by_role("link", name="结构计算书.pdf（PDF，在新标签页打开）")
    assert report.get_attribute("target") == "_blank"
    assert page.locator("iframe").count() == 0
    first, sheet = panes.nth(0).bounding_box(), panes.nth(1).bounding_box()
    if page.width_name == "desktop":
        assert sheet["x"] > first["x"] + first["width"] - 1  # side by side
    else:
        assert sheet["y"] > first["y"] + first["height"] - 1  # stacked
    assert "CHAIR-NOTE" not in page.content()
    assert_accessible(page)
    screenshot(page, "53-score")
    score_scheme(page, 6, "SECOND-NOTE")
    # a conflict of interest with scheme B
    page.get_by_role("link", name="申报利益冲突").click()
    page.get_by_label("有利益冲突", exact=True).check()
    page.get_by_label("利益冲突的内容").fill("我所在的单位参与了方案 B 的设计。")
    page.get_by_role("button", name="申报", exact=True).click()
    assert "您已申报利益冲突" in page.get_by_role("main").inner_text()
    page.get_by_role("button", name="提交我的评分").click()
    page.get_by_role("link", name="结果").click()
    assert "CHAIR-NOTE" in page.content()  # now the others' scores show
    assert_accessible(page)
    sign_out(page)

    # the residents' representative has a say on scheme A, without a score
    sign_in(page, representative.email)
    page.goto(panel_url)
    assert "可发表评议，不打分" in page.get_by_role("main").inner_text()
    assert page.get_by_role("link", name="申报利益冲突").count() == 0
    page.get_by_role("link", name="写评议").first.click()
    assert "北侧电梯井" in page.locator(".side-by-side > .pane").nth(0).inner_text()
    assert_accessible(page)
    screenshot(page, "55-remark")
    page.get_by_label("您对该方案的评议").fill("REPRESENTATIVE-NOTE 老人多，希望电梯到每层平层入户。")
    page.get_by_role("button", name="保存评议").click()
    page.goto(f"/experts/panels/{panel.id}/results")  # not before the panel closes
    assert page.url == panel_url
    assert "专家组结束评分后，您才能看到结果。" in page.locator(".flash").inner_text()
    assert "CHAIR-NOTE" not in page.content()
    sign_out(page)

    # the chair writes the opinion on each scheme and closes the panel
    sign_in(page, chair.email)
    page.goto(panel_url)
    page.get_by_role("link", name="撰写专家组意见").first.click()
    assert_accessible(page)
    page.get_by_label("修改后推荐").check()
    page.get_by_label("需修改的内容").fill("电梯井与北墙之间留出检修通道。")
    page.get_by_role("button", name="保存意见").click()
    page.get_by_role("link", name="撰写专家组意见").nth(1).click()
    page.get_by_label("推荐", exact=True).check()
    page.get_by_role("button", name="保存意见").click()
    page.get_by_label(
        "结束专家组评审：此后不能再评分或评议。本轮答复公布之前，组长仍可撰写或修改专家组意见。"
    ).check()
    page.get_by_role("button", name="结束专家组评审").click()
    assert "已结束" in page.get_by_role("main").inner_text()
    assert_accessible(page)
    page.get_by_role("link", name="结果").click()
    results = page.get_by_role("main").inner_text()
    # A: (8 + 6) / 2 = 7 on every criterion → 70; B: the second expert's conflict leaves the chair's 7 → 70
    assert "70.00" in results
    assert "并列" in results
    assert page.locator("svg.chart").count() == 2
    assert "REPRESENTATIVE-NOTE" in results
    assert page.get_by_role("img", name="每位专家对各方案的总分与专家组总分的对比").count() == 1
    screenshot(page, "54-results")
    assert_accessible(page)
    sign_out(page)

    # the round 2 answer, once published, carries the panel's conclusion, without a name
    db.session.rollback()
    round_ = db.session.get(type(round_), round_.id)
    round_.state = RoundState.NOTICE
    db.session.commit()
    page.goto(f"/p/{compound.id}/answers/{round_.id}")
    main = page.get_by_role("main").inner_text()
    assert "专家组意见" in main
    assert "电梯井与北墙之间留出检修通道。" in main
    assert "70.00" in main
    for name in ("张工", "李工", "王审"):
        assert name not in page.content()
    assert_accessible(page)
