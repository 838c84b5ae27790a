"""Every setting the code reads is read from the environment, and documented."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from consult import config

ROOT = Path(__file__).resolve().parents[1]
#: Flask's own settings, which the app sets itself (secure_cookie) rather than from the environment
FLASK_OWN = {
    "SERVER_NAME",
    "SESSION_COOKIE_DOMAIN",
    "SESSION_COOKIE_NAME",
    "SESSION_COOKIE_PATH",
    "SESSION_COOKIE_SECURE",
}


def documented() -> set[str]:
    names = set()
    for line in (config.__doc__ or "").splitlines():
        match = re.match(r"([A-Z_]+(?:, [A-Z_]+)*)\s", line)
        if match:
            names |= set(match.group(1).split(", "))
    return names


def read_by_the_code() -> set[str]:
    pattern = re.compile(r"config(?:\.get\(|\[)\"([A-Z_]+)\"")
    return {
        name for path in (ROOT / "consult").rglob("*.py") for name in pattern.findall(path.read_text("utf-8"))
    }


def test_every_setting_the_code_reads_is_in_the_configuration_and_documented():
    settings = {name for name in vars(config.Config) if name.isupper()}
    missing = read_by_the_code() - settings - FLASK_OWN
    assert missing == set()
    undocumented = {
        "DATABASE_URL" if n == "SQLALCHEMY_DATABASE_URI" else n for n in read_by_the_code() - FLASK_OWN
    }
    assert undocumented - documented() == set()
    assert documented() - settings - {"DATABASE_URL"} == set()  # nothing documented that is not read


def test_the_environment_reaches_the_settings():
    env = {**os.environ, "PROXY_LIMIT": "3", "VOTE_EXPORT_KEY": "export-key-from-the-environment"}
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "from consult import create_app; c = create_app().config;"
            " print(c['PROXY_LIMIT'], c['VOTE_EXPORT_KEY'])",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout.split() == ["3", "export-key-from-the-environment"]


def test_a_new_set_of_keys_is_random_and_fit_to_serve_with(app, runner):
    from consult.crypto import key_of
    from consult.safety import weak_secret

    first = dict(line.split("=", 1) for line in runner.invoke(args=["keys", "new"]).output.splitlines())
    second = dict(line.split("=", 1) for line in runner.invoke(args=["keys", "new"]).output.splitlines())
    assert set(first) == {"SECRET_KEY", "DATA_KEY", "CODE_KEY", "VOTE_EXPORT_KEY"}
    assert all(first[name] != second[name] for name in first)
    assert weak_secret(first["SECRET_KEY"]) is None
    assert len(key_of(first["DATA_KEY"], "")) == 32  # what DATA_KEY must be


def test_keys_check_tells_which_keys_stand_apart_without_showing_them(app, runner):
    app.config.update(SECRET_KEY="dev", DATA_KEY="", CODE_KEY="a code key of its own")
    checked = runner.invoke(args=["keys", "check"])
    assert checked.exit_code == 1  # the development secret
    assert "SECRET_KEY: unfit" in checked.output
    assert "DATA_KEY: derived from SECRET_KEY" in checked.output
    assert "CODE_KEY: set on its own" in checked.output
    assert "a code key of its own" not in checked.output
    app.config["SECRET_KEY"] = "Kq3v-9xYz_Lm2Np8Rt5Wb1Hc7Jd4Fg6S"
    assert runner.invoke(args=["keys", "check"]).exit_code == 0
