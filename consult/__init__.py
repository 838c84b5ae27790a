"""Tongxin (同心): resident participation and consultation for old compound renovation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter


class DatabaseId(IntegerConverter):
    """``<int:…>`` in a URL: an id the database can hold (a larger number names nothing, so: 404)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    from consult.config import Config
    from consult.config import database_url
    from consult.signing import SessionInterface

    app = Flask(__name__, template_folder="../templates", static_folder="../static")
    app.url_map.converters["int"] = DatabaseId
    app.config.from_object(Config)
    if config:
        app.config.update(config)
        if "SQLALCHEMY_DATABASE_URI" in config:
            app.config["SQLALCHEMY_DATABASE_URI"] = database_url(config["SQLALCHEMY_DATABASE_URI"])
    secure_cookie(app)
    app.session_interface = SessionInterface()  # signed with HMAC-SHA256
    if app.config.get("PROXY_FIX_HOPS"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_FIX_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    from consult.logs import install_redaction
    from consult.logs import ship_to_syslog

    install_redaction()
    if app.config.get("SYSLOG_ADDRESS"):
        ship_to_syslog(app.config["SYSLOG_ADDRESS"])
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_jinja(app)
    register_cli(app)
    return app


def secure_cookie(app: Flask) -> None:
    """Served over HTTPS (BASE_URL), the session cookie is Secure and named ``__Host-session``: the browser
    then takes it only from this exact host, over HTTPS, for the whole site (no Domain, Path=/)."""
    if str(app.config.get("BASE_URL", "")).startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["SESSION_COOKIE_NAME"] = "__Host-session"
        app.config["SESSION_COOKIE_DOMAIN"] = None
        app.config["SESSION_COOKIE_PATH"] = "/"


def register_extensions(app: Flask) -> None:
    from consult.extensions import babel
    from consult.extensions import csrf
    from consult.extensions import db
    from consult.extensions import limiter
    from consult.extensions import login_manager
    from consult.extensions import migrate
    from consult.i18n import select_locale
    from consult.security import no_wait_on_success

    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True)
    csrf.init_app(app)
    app.after_request(no_wait_on_success)  # after-request hooks run last-registered first
    limiter.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    import consult.models  # noqa: F401  every model is known to the metadata
    from consult.compounds.versions import watch_changes

    watch_changes()  # every commit moves the content version of the compounds it changed
    from consult.audit.services import log_committed_entries

    log_committed_entries()  # each committed audit entry is also a line of the app's log
    from consult.auth.views import signed_in_user

    login_manager.user_loader(signed_in_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"


def register_blueprints(app: Flask) -> None:
    from consult.api.views import bp as api_bp
    from consult.auth.views import bp as auth_bp
    from consult.compounds.views import bp as compounds_bp
    from consult.district.views import bp as district_bp
    from consult.dossier.views import bp as dossier_bp
    from consult.experts.views import bp as experts_bp
    from consult.i18n import bp as i18n_bp
    from consult.notify.views import bp as notify_bp
    from consult.paper.views import bp as paper_bp
    from consult.public.views import bp as public_bp
    from consult.residents.views import bp as residents_bp
    from consult.roster.views import bp as roster_bp
    from consult.rounds.views import bp as rounds_bp
    from consult.schemes.views import bp as schemes_bp
    from consult.surveys.views import bp as surveys_bp
    from consult.voting.views import bp as voting_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(compounds_bp)
    app.register_blueprint(roster_bp)
    app.register_blueprint(rounds_bp)
    app.register_blueprint(i18n_bp)
    app.register_blueprint(notify_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(residents_bp)
    app.register_blueprint(schemes_bp)
    app.register_blueprint(surveys_bp)
    app.register_blueprint(voting_bp)
    app.register_blueprint(district_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(experts_bp)
    app.register_blueprint(dossier_bp)
    app.register_blueprint(paper_bp)
    app.add_url_rule("/", "index", _index)
    app.add_url_rule("/favicon.ico", "favicon", _favicon)
    register_round_content()


def register_round_content() -> None:
    """Each kind of round's content tells the round engine who has answered and what blocks publishing."""
    from consult.dossier.services import register_with_retention
    from consult.schemes.services import register_with_engine as schemes
    from consult.surveys.services import register_with_engine as surveys
    from consult.voting.services import register_with_engine as voting

    for hook in (surveys, schemes, voting):
        hook()
    register_with_retention()  # an approved consensus record ends the consultation, one waiting does not


def _favicon() -> Any:
    """No icon: browsers ask for one on every page, and are told once a week that there is none."""
    from flask import Response

    return Response(status=204, headers={"Cache-Control": "public, max-age=604800"})


def _index() -> Any:
    from flask import redirect
    from flask import url_for
    from flask_login import current_user

    from consult.auth.views import staff_home
    from consult.residents.access import current_invitation

    if current_user.is_authenticated:
        return redirect(staff_home(current_user))
    if current_invitation() is not None:  # a resident who came in with their card
        return redirect(url_for("residents.home"))
    return redirect(url_for("auth.login"))


def register_errorhandlers(app: Flask) -> None:
    from consult.errors import register
    from consult.security import register as register_security

    register(app)
    register_security(app)


def register_jinja(app: Flask) -> None:
    from consult.i18n import inject_locale
    from consult.residents.access import inject_resident
    from consult.ui import register_filters

    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.context_processor(inject_locale)
    app.context_processor(inject_resident)
    register_filters(app)
    from consult.dossier.labels import bar_lines
    from consult.dossier.labels import below_the_law_text

    # a vote's bars in words, and the warning for a rule below the law's (the record's page, the vote's)
    app.jinja_env.globals.update(bar_lines=bar_lines, below_the_law=below_the_law_text)


def register_cli(app: Flask) -> None:
    from consult.cli import register

    register(app)
