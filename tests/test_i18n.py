"""Languages: catalogues compile, every marked string is translated, pages render in both languages."""

from __future__ import annotations

import re
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from consult.cli import extract_args
from consult.extensions import db

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"

#: Latin words allowed on a Chinese page: names of things, units and file formats.
ALLOWED_LATIN = {"tongxin", "english", "csv", "xlsx", "gbk", "utf", "excel", "pdf", "qr", "m²", "xls", "sha"}


ROSTER = (
    "楼栋,单元,房号,建筑面积,业主姓名,联系电话,身份\n"
    "1,1,101,80.5,张伟,13812341234,业主\n"
    "1,1,101,,王芳,,租户\n"
)


def building_id(compound) -> int:
    from consult.roster.parse import parse_roster
    from consult.roster.services import apply_rows

    apply_rows(compound, parse_roster(ROSTER.encode()), "test")
    db.session.commit()
    return compound.buildings[0].id


def extracted_ids(tmp_path: Path) -> set[str]:
    pot = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run([pybabel, "-q", *extract_args(str(pot))], cwd=ROOT, check=True)
    with pot.open("rb") as f:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}


def test_every_catalogue_compiles(tmp_path):
    for po in (ROOT / "translations").glob("*/LC_MESSAGES/messages.po"):
        with po.open("rb") as f:
            catalogue = read_po(f)
        with (tmp_path / "messages.mo").open("wb") as f:
            write_mo(f, catalogue)
        assert not list(catalogue.check()), po


def test_every_marked_string_has_a_chinese_translation(tmp_path):
    with CATALOGUE.open("rb") as f:
        catalogue = read_po(f)
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalogue
        if m.id and not m.fuzzy and (m.string if isinstance(m.string, str) else all(m.string))
    }
    missing = sorted(extracted_ids(tmp_path) - translated)
    assert missing == [], f"untranslated: {missing}"


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"&[a-z#0-9]+;", " ", html)


def latin_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[A-Za-z][A-Za-z²]+", text) if w.lower() not in ALLOWED_LATIN}


@pytest.mark.parametrize(("lang", "html_lang"), [("zh_CN", "zh-CN"), ("en", "en")])
def test_pages_render_in_both_languages(client, auth, worker, compound, lang, html_lang):
    client.post(f"/lang/{lang}", data={"next": "/"})
    pages = [client.get("/auth/login")]
    auth.login(worker)
    client.post(f"/lang/{lang}", data={"next": "/"})
    for path in ("/compounds/", f"/compounds/{compound.id}", f"/compounds/{compound.id}/roster"):
        pages.append(client.get(path))
    pages.append(client.get("/no-such-page"))
    pages.append(
        client.post(  # the preview of a valid file
            f"/compounds/{compound.id}/roster",
            data={"file": (BytesIO(ROSTER.encode()), "名册.csv")},
            content_type="multipart/form-data",
        )
    )
    pages.append(
        client.post(  # the list of problems of an invalid one
            f"/compounds/{compound.id}/roster",
            data={"file": (BytesIO("楼栋,单元,房号,建筑面积\n1,1,101,-3\n".encode()), "名册.csv")},
            content_type="multipart/form-data",
        )
    )
    pages.append(client.get(f"/compounds/{compound.id}/buildings/{building_id(compound)}"))
    for response in pages:
        path = response.request.path
        assert response.status_code in (200, 404, 422), path
        html = response.get_data(as_text=True)
        assert f'<html lang="{html_lang}">' in html, path
        if lang == "zh_CN":
            assert latin_words(visible_text(html)) == set(), path
        else:
            assert "residents and organisers agree" in html, path
            assert "居民" not in html, path


def test_default_language_is_chinese(client):
    html = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "工作人员登录" in html


def test_browser_language_is_honoured(client):
    html = client.get("/auth/login", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Staff sign-in" in html


def test_language_switch_is_remembered(client):
    response = client.post("/lang/en", data={"next": "/auth/login"})
    assert response.headers["Location"].endswith("/auth/login")
    assert "Staff sign-in" in client.get("/auth/login").get_data(as_text=True)
    client.post("/lang/zh_CN", data={"next": "https://evil.example/"})
    assert "工作人员登录" in client.get("/auth/login").get_data(as_text=True)


def test_messages_render_outside_a_request():
    """The command line has no request: messages come out in the default language, without error."""
    from flask_babel import lazy_gettext as _l

    from consult import create_app
    from tests.conftest import app_config

    with create_app(app_config()).app_context():
        assert str(_l("Missing value.")) == "这里不能空着。"
