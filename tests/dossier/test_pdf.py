"""The dossier PDF, read back with poppler: embedded fonts, Chinese text, a rendered cover page kept as an
artefact; the same PDF from ``flask dossier``."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from consult.dossier import services
from consult.dossier.services import Funding
from consult.extensions import db

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "dossier"

#: skipped on a machine without poppler, never in CI (whose run installs it): there a missing tool fails
pytestmark = pytest.mark.skipif(
    shutil.which("pdffonts") is None and os.environ.get("CI") != "true",
    reason="poppler-utils is not installed",
)


@pytest.fixture
def record(consultation):
    frozen = services.submit_record(
        consultation.compound,
        Funding(Decimal("1200.00"), Decimal("30"), None, ""),
        "user:1",
        datetime.now(UTC),
    )
    db.session.commit()
    return frozen


def poppler(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def test_the_dossier_embeds_its_fonts_and_its_text_extracts_in_chinese(record, tmp_path):
    path = tmp_path / "dossier.pdf"
    path.write_bytes(services.dossier_pdf(record, "zh_CN"))
    fonts = poppler("pdffonts", str(path)).splitlines()[2:]
    assert fonts, "the PDF names no font"
    for line in fonts:
        assert line.split()[-5:-3] == ["yes", "yes"], f"a font is not embedded (subset): {line}"
    text = poppler("pdftotext", "-layout", str(path), "-")
    for expected in ("浣花小区", "一院一策", "版本", "屋面防水", "物业服务企业"[:2], record.digest[:8]):
        assert expected in text
    assert "第 1 页" in text or "第1页" in text
    assert "张伟" not in text
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    poppler("pdftoppm", "-r", "80", "-png", "-f", "1", "-l", "3", str(path), str(ARTIFACTS / "dossier-zh"))
    assert (ARTIFACTS / "dossier-zh-1.png").stat().st_size > 10_000


def test_the_dossier_speaks_english_to_an_english_reader(record, tmp_path):
    path = tmp_path / "dossier.pdf"
    path.write_bytes(services.dossier_pdf(record, "en"))
    text = poppler("pdftotext", str(path), "-")
    assert "Consensus record" in text
    assert "Expert scores" in text
    assert "浣花小区" in text  # names stay as they are


def test_the_cover_s_qr_and_address_open_the_verification_page(record, app):
    app.config["BASE_URL"] = "https://tongxin.example.gov.cn"
    assert (
        services.verify_url(record.digest) == f"https://tongxin.example.gov.cn/verify?digest={record.digest}"
    )


def test_flask_dossier_writes_the_same_pdf(record, runner, tmp_path):
    out = tmp_path / "cli.pdf"
    result = runner.invoke(args=["dossier", "浣花小区", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert record.digest in result.output
    assert out.read_bytes().startswith(b"%PDF")
    assert "浣花小区" in poppler("pdftotext", str(out), "-")
    english = tmp_path / "en.pdf"
    result = runner.invoke(
        args=["dossier", str(record.compound_id), "--version", "1", "--lang", "en", "--out", str(english)]
    )
    assert result.exit_code == 0, result.output
    assert "Consensus record" in poppler("pdftotext", str(english), "-")
    result = runner.invoke(args=["dossier", "浣花小区", "--version", "9", "--out", str(out)])
    assert result.exit_code == 1
    assert "no consensus record version 9" in result.output


def test_the_reasons_recorded_name_each_act_in_the_readers_language(record, consultation, tmp_path):
    from consult.rounds.rules import Action
    from consult.rounds.services import apply

    vote = consultation.rounds[2]
    services.return_record(record, {"lifts": "电梯表决需补充"}, 3, 7, False, "user:2", datetime.now(UTC))
    db.session.commit()
    apply(vote, Action.CLOSE, "user:1", vote.closes_at)
    second = services.submit_record(
        consultation.compound, Funding(Decimal("1200.00"), Decimal("30"), None, ""), "user:1", vote.closes_at
    )
    db.session.commit()
    path = tmp_path / "dossier.pdf"
    path.write_bytes(services.dossier_pdf(second, "zh_CN"))
    text = poppler("pdftotext", str(path), "-")
    flat = text.replace("\n", "")  # a cell's words wrap at its width
    assert "区级审核退回后重新开放" in flat
    assert "电梯表决需补充" in flat
    assert "reopen" not in flat  # the engine's code for it


def test_the_dossiers_days_and_times_are_those_of_the_compound(app):
    from consult.dossier.pdf import _date

    # a round opening at midnight in Chengdu opens at 16:00 the day before in UTC
    assert _date("2026-11-30T16:00:00+00:00") == "2026-12-01"
    assert _date("2026-11-28T01:47:00+00:00", with_time=True) == "2026-11-28 09:47"


def test_the_dossier_states_the_aggregation_actually_used(consultation, tmp_path):
    """A panel set to the trimmed mean whose two experts scored: nothing was trimmed, and the record says
    the mean was used."""
    from consult.experts.models import Panel
    from consult.experts.rules import Aggregation

    panel = db.session.scalars(select(Panel)).one()
    panel.aggregation = Aggregation.TRIMMED_MEAN
    frozen = services.submit_record(
        consultation.compound,
        Funding(Decimal("1200.00"), Decimal("30"), None, ""),
        "user:1",
        datetime.now(UTC),
    )
    db.session.commit()
    path = tmp_path / "dossier.pdf"
    path.write_bytes(services.dossier_pdf(frozen, "en"))
    flat = " ".join(poppler("pdftotext", str(path), "-").split())
    assert "aggregation: Mean." in flat
    assert "Trimmed" not in flat
    assert "still open" not in flat  # the sample's panel closed


def test_the_dossier_says_when_the_panel_was_still_open(consultation, tmp_path):
    """Submitted before the panel closed, the record holds only the scores submitted by then: the PDF
    says so rather than present them as the panel's result."""
    from consult.experts.models import Panel

    panel = db.session.scalars(select(Panel)).one()
    panel.closed_at = None
    frozen = services.submit_record(
        consultation.compound,
        Funding(Decimal("1200.00"), Decimal("30"), None, ""),
        "user:1",
        datetime.now(UTC),
    )
    db.session.commit()
    assert services.content_of(frozen)["sections"]["experts"][0]["closed_at"] is None
    path = tmp_path / "dossier.pdf"
    path.write_bytes(services.dossier_pdf(frozen, "en"))
    flat = " ".join(poppler("pdftotext", str(path), "-").split())
    assert "The panel was still open" in flat


def test_the_review_history_says_when_and_by_whom_each_decision_was_taken(
    record, consultation, create_user, tmp_path
):
    from datetime import timedelta

    from consult.auth.models import Role
    from consult.dossier.pdf import _date
    from consult.rounds.rules import Action
    from consult.rounds.services import apply

    first = create_user("first@example.test", Role.REVIEWER, None, name="区审甲")
    later = create_user("later@example.test", Role.REVIEWER, None, name="区审乙")
    vote = consultation.rounds[2]
    returned_at = record.submitted_at + timedelta(days=3)
    services.return_record(record, {"lifts": "电梯表决需补充"}, 3, 7, False, f"user:{first.id}", returned_at)
    db.session.commit()
    apply(vote, Action.CLOSE, "user:1", vote.closes_at)
    second = services.submit_record(
        consultation.compound, Funding(Decimal("1200.00"), Decimal("30"), None, ""), "user:1", vote.closes_at
    )
    services.approve(second, f"user:{later.id}", vote.closes_at + timedelta(days=2))
    db.session.commit()
    assert services.content_of(second)["history"][0]["decided_by"] == "区审甲"
    text = poppler("pdftotext", "-layout", str(_write(services.dossier_pdf(second, "en"), tmp_path)), "-")
    history = text[text.index("History of the district review") :]
    assert _date(returned_at.isoformat()) in history
    assert _date((vote.closes_at + timedelta(days=2)).isoformat()) in history
    assert "区审甲" in history  # who returned the first version
    assert "区审乙" in history  # who approved this one


def _write(data: bytes, folder: Path) -> Path:
    path = folder / "dossier.pdf"
    path.write_bytes(data)
    return path


def test_the_dossier_says_how_many_owners_in_scope_are_dwellings_whose_owner_is_not_known(record, tmp_path):
    """Each such dwelling counts as an owner who did not vote: the figures say so, in the record frozen
    and in its PDF, so that "voted 5 of 6" is not read as a missing owner."""
    import copy

    from consult.dossier.pdf import Dossier
    from consult.dossier.pdf import dossier_pdf

    content = services.content_of(record)
    plan = content["sections"]["vote"]["questions"][0]
    assert all(t["unknown"] == 0 for t in plan["tallies"].values())  # every owner of this roster is known
    text = poppler("pdftotext", str(_write(services.dossier_pdf(record, "en"), tmp_path)), "-")
    assert "whose owner is not known" not in text
    changed = copy.deepcopy(content)
    for t in changed["sections"]["vote"]["questions"][0]["tallies"].values():
        t["unknown"] = 1
    pdf = dossier_pdf(Dossier(changed, record.digest, services.verify_url(record.digest), None), "en")
    text = " ".join(poppler("pdftotext", str(_write(pdf, tmp_path)), "-").split())
    assert "Of these owners, 1 is a dwelling whose owner is not known" in text
    from flask import render_template_string

    from consult.dossier.labels import label

    page = render_template_string(
        '{% from "dossier/_content.html" import record_content %}{{ record_content(content, label) }}',
        content=changed,
        label=label,
    )
    assert "其中 1 户业主不明" in page  # (the default language)
