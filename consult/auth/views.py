from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required
from flask_login import login_user
from flask_login import logout_user

from consult.audit.services import record
from consult.auth.forms import LoginForm
from consult.auth.services import authenticate
from consult.auth.services import end_sessions
from consult.extensions import db
from consult.i18n import fresh_session
from consult.safety import local_target

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("compounds.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data or "", form.password.data or "")
        if user is None:
            form.password.errors.append(_("E-mail or password is wrong."))
        else:
            fresh_session()
            login_user(user)
            record(f"user:{user.id}", "user.login")
            db.session.commit()
            return redirect(local_target(request.args.get("next"), url_for("compounds.dashboard")))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout() -> Any:
    end_sessions(current_user)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))
