from __future__ import annotations

import secrets
import time
from typing import Any

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import g
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
from markupsafe import Markup
from sqlalchemy import select

from consult.audit.services import record
from consult.auth.decorators import role_required
from consult.auth.forms import ROLE_LABELS
from consult.auth.forms import CodeForm
from consult.auth.forms import ForgotForm
from consult.auth.forms import LoginForm
from consult.auth.forms import PasswordForm
from consult.auth.forms import ResetForm
from consult.auth.forms import SecondStepForm
from consult.auth.forms import UserForm
from consult.auth.models import Role
from consult.auth.models import User
from consult.auth.rules import new_totp_secret
from consult.auth.rules import otpauth_uri
from consult.auth.services import AccountError
from consult.auth.services import WeakPassword
from consult.auth.services import WrongCode
from consult.auth.services import authenticate
from consult.auth.services import change_password
from consult.auth.services import create_user
from consult.auth.services import end_other_sessions
from consult.auth.services import end_staff_session
from consult.auth.services import first_password_expired
from consult.auth.services import load_user
from consult.auth.services import open_staff_session
from consult.auth.services import recovery_codes_left
from consult.auth.services import renew_recovery_codes
from consult.auth.services import request_reset
from consult.auth.services import reset_password
from consult.auth.services import reset_two_step
from consult.auth.services import second_step
from consult.auth.services import send_reset_link
from consult.auth.services import session_seen
from consult.auth.services import set_active
from consult.auth.services import set_role
from consult.auth.services import sign_out
from consult.auth.services import sign_out_everyone
from consult.auth.services import sign_out_everywhere
from consult.auth.services import staff_sessions
from consult.auth.services import turn_off_two_step
from consult.auth.services import turn_on_two_step
from consult.auth.services import user_for_reset
from consult.compounds.models import Street
from consult.db import utcnow
from consult.extensions import db
from consult.extensions import limiter
from consult.i18n import fresh_session
from consult.residents.qr import qr_svg
from consult.safety import local_target

bp = Blueprint("auth", __name__, url_prefix="/auth")


#: the session cookie's key of its staff session (``StaffSession.key``)
STAFF_SESSION = "staff_session"


def start_staff_session(now: float) -> None:
    session["staff_since"] = session["staff_seen"] = int(now)


def signed_in_user(session_id: str) -> User | None:
    """Flask-Login's loader: the account, if this cookie's staff session is still open."""
    return load_user(session_id, session.get(STAFF_SESSION))


@bp.before_app_request
def staff_session_limits() -> Any:
    """A staff session ends after STAFF_IDLE_MINUTES unused, and STAFF_SESSION_HOURS after sign-in."""
    if not current_user.is_authenticated:
        return None
    now = time.time()
    since, seen = session.get("staff_since"), session.get("staff_seen")
    idle = current_app.config["STAFF_IDLE_MINUTES"] * 60
    absolute = current_app.config["STAFF_SESSION_HOURS"] * 3600
    if not isinstance(since, int) or not isinstance(seen, int) or now - seen > idle or now - since > absolute:
        logout_user()
        fresh_session()
        flash(_("Your session has ended. Please sign in again."), "info")
        return redirect(url_for("auth.login"))
    if now - seen > 60:  # refresh at most once a minute, so that not every response rewrites the cookie
        session["staff_seen"] = int(now)
        session_seen(session[STAFF_SESSION], utcnow())  # for the list of the account's sessions
        db.session.commit()
    return None


#: what a person with a first step to take (below) may still open besides that step's page
BEFORE_FIRST_STEPS = {"auth.logout", "static", "i18n.switch", "i18n.toggle_large_type"}


@bp.before_app_request
def first_steps() -> Any:
    """Before any other page, a staff member chooses their own password when an administrator gave the
    one they signed in with, then turns two-step sign-in on when their role is in ``TWO_STEP_ROLES``."""
    if not current_user.is_authenticated:
        return None
    if current_user.password_change_due:
        step = "auth.password"
        message = _("Your first password was given to you by an administrator: choose your own to go on.")
    elif not current_user.two_step_on and current_user.role.value in current_app.config["TWO_STEP_ROLES"]:
        step = "auth.two_step"
        message = _("Your account must use two-step sign-in: turn it on to go on.")
    else:
        return None
    if request.endpoint == step or request.endpoint in BEFORE_FIRST_STEPS:
        return None
    flash(message, "info")
    return redirect(url_for(step))


def staff_home(user: User) -> str:
    """Where a staff member starts: an expert at their panels, a district reviewer at the district's
    progress, everyone else at their compounds."""
    if user.role is Role.EXPERT:
        return url_for("experts.index")
    if user.role is Role.REVIEWER:
        return url_for("district.dashboard")
    return url_for("compounds.dashboard")


def login_limit() -> str:
    return current_app.config["LOGIN_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"], deduct_when=lambda response: bool(g.get("login_failed")))
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(staff_home(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data or "", form.password.data or "")
        if user is None:
            g.login_failed = True  # counts against the client's limit of wrong passwords
            record("anonymous", "user.login_failed", email=(form.email.data or "").strip().lower()[:200])
            db.session.commit()
            form.password.errors.append(_("E-mail or password is wrong."))
        elif first_password_expired(user, utcnow()):
            record(f"user:{user.id}", "user.first_password_expired")
            db.session.commit()
            form.password.errors.append(
                _(
                    "This first password was given more than %(days)s days ago and no longer works. Ask "
                    "for a new-password link below, or ask the administrator.",
                    days=current_app.config["FIRST_PASSWORD_DAYS"],
                )
            )
        else:
            target = local_target(request.args.get("next"), staff_home(user))
            if user.two_step_on:  # the password was right: now the app's code
                fresh_session()
                session[PENDING] = {"user": user.id, "since": int(time.time()), "next": target}
                db.session.commit()  # a rehashed password
                return redirect(url_for("auth.second_factor"))
            return _signed_in(user, target)
    return render_template("auth/login.html", form=form)


def _new_staff_session(user: User) -> None:
    """A new session for ``user`` (nothing of the one before but the display preferences), bound to the
    account's current token: after a sign-in, or after a change that ended the account's other sessions.
    The caller commits."""
    fresh_session()
    login_user(user)
    start_staff_session(time.time())
    session[STAFF_SESSION] = open_staff_session(user, request.user_agent.string, utcnow())


def _signed_in(user: User, target: str) -> Any:
    _new_staff_session(user)
    record(f"user:{user.id}", "user.login")
    db.session.commit()
    return redirect(target)


#: the session's note of a sign-in whose password was right and whose code is awaited
PENDING = "two_step"
#: how long the code may take after the password
PENDING_SECONDS = 300


def _pending_user() -> tuple[User, str] | None:
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or not isinstance(pending.get("since"), int):
        return None
    if time.time() - pending["since"] > PENDING_SECONDS:
        return None
    user = db.session.get(User, pending.get("user")) if isinstance(pending.get("user"), int) else None
    if user is None or not user.active or not user.two_step_on:
        return None
    return user, str(pending.get("next") or staff_home(user))


@bp.route("/code", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"], deduct_when=lambda response: bool(g.get("login_failed")))
def second_factor() -> Any:
    """The second step of a sign-in with two-step sign-in on: the code the person's app shows."""
    found = _pending_user()
    if found is None:
        session.pop(PENDING, None)
        flash(_("Please sign in again."), "info")
        return redirect(url_for("auth.login"))
    user, target = found
    form = SecondStepForm()
    if form.validate_on_submit():
        try:
            left = second_step(user, form.code.data or "", time.time())
        except WrongCode as error:
            g.login_failed = True  # counts against the client's limit, as a wrong password does
            db.session.commit()  # the failure's audit entry
            form.code.errors.append(str(error))
        else:
            response = _signed_in(user, target)
            if left is not None:
                flash(
                    _(
                        "You signed in with a recovery code, which now cannot be used again: %(n)s are left. "
                        "Make new ones on the two-step sign-in page.",
                        n=left,
                    ),
                    "warning",
                )
            return response
    return render_template("auth/code.html", form=form), 422 if form.errors else 200


@bp.route("/two-step", methods=["GET", "POST"])
@login_required
def two_step() -> Any:
    """Turn two-step sign-in on (scan the code, type the app's code) or off (type the app's code)."""
    user = current_user._get_current_object()  # the account itself, not the proxy to it
    form = CodeForm()
    if not user.two_step_on:
        secret = session.get("two_step_setup")
        if not isinstance(secret, str) or request.method == "GET":
            secret = session["two_step_setup"] = new_totp_secret()
        if form.validate_on_submit():
            try:
                codes = turn_on_two_step(user, secret, form.code.data or "", time.time())
            except WrongCode as error:
                db.session.rollback()
                form.code.errors.append(str(error))
            else:
                _new_staff_session(user)  # this session goes on with the new token
                db.session.commit()
                flash(_("Two-step sign-in is on. Other sessions of your account have ended."), "success")
                return render_template("auth/recovery_codes.html", codes=codes)
        uri = otpauth_uri(secret, user.email)
        return render_template(
            "auth/two_step.html",
            form=form,
            on=False,
            secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            qr=Markup(qr_svg(uri, label=_("QR code for your authenticator app"))),  # noqa: S704  our own SVG
        ), 422 if form.errors else 200
    if form.validate_on_submit():
        try:
            turn_off_two_step(user, form.code.data or "", time.time())
        except AccountError as error:
            db.session.rollback()
            form.code.errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Two-step sign-in is off: your password alone signs you in."), "success")
            return redirect(url_for("auth.two_step"))
    return _two_step_on_page(user, off=form, renew=CodeForm(prefix="renew"))


def _two_step_on_page(user: User, off: CodeForm, renew: CodeForm) -> Any:
    return render_template(
        "auth/two_step.html", form=off, renew=renew, on=True, left=recovery_codes_left(user)
    ), 422 if off.errors or renew.errors else 200


@bp.post("/two-step/recovery-codes")
@login_required
def recovery_codes() -> Any:
    """New recovery codes, confirmed by the app's code; shown this once."""
    user = current_user._get_current_object()
    if not user.two_step_on:
        return redirect(url_for("auth.two_step"))
    renew = CodeForm(prefix="renew")
    if renew.validate_on_submit():
        try:
            codes = renew_recovery_codes(user, renew.code.data or "", time.time())
        except AccountError as error:
            db.session.rollback()
            renew.code.errors.append(str(error))
        else:
            db.session.commit()
            return render_template("auth/recovery_codes.html", codes=codes)
    return _two_step_on_page(user, off=CodeForm(formdata=None), renew=renew)


@bp.post("/logout")
@login_required
def logout() -> Any:
    """Sign out of this session (the account's sessions elsewhere are listed on its sessions page)."""
    sign_out(current_user, session.get(STAFF_SESSION))
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.get("/sessions")
@login_required
def sessions() -> Any:
    """The account's open sessions, on this device and elsewhere; any of the others can be ended."""
    return render_template(
        "auth/sessions.html",
        sessions=staff_sessions(current_user),
        this=session.get(STAFF_SESSION),
    )


@bp.post("/sessions/<int:session_id>/end")
@login_required
def end_session(session_id: int) -> Any:
    user = current_user._get_current_object()
    if not end_staff_session(user, session_id, session[STAFF_SESSION], f"user:{user.id}", utcnow()):
        abort(404)  # not an open session of theirs, or this one (which ends by signing out)
    db.session.commit()
    flash(_("That session has ended: it is signed out."), "success")
    return redirect(url_for("auth.sessions"))


@bp.post("/sessions/end-others")
@login_required
def end_others() -> Any:
    user = current_user._get_current_object()
    count = end_other_sessions(user, session[STAFF_SESSION], utcnow())
    db.session.commit()
    flash(_("Your other sessions have ended (%(n)s).", n=count), "success")
    return redirect(url_for("auth.sessions"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password() -> Any:
    """Change one's own password; every other session of the account ends."""
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            change_password(
                current_user, form.current.data or "", form.new.data or "", f"user:{current_user.id}"
            )
        except WeakPassword as error:
            db.session.rollback()
            form.new.errors.append(str(error))
        except AccountError as error:
            db.session.rollback()
            form.current.errors.append(str(error))
        else:
            _new_staff_session(current_user._get_current_object())  # goes on with the new token
            db.session.commit()
            flash(_("Your password is changed. Other sessions of your account have ended."), "success")
            return redirect(staff_home(current_user))
    return render_template("auth/password.html", form=form)


# --- a forgotten password


def reset_limit() -> str:
    return current_app.config["RESET_LIMIT"]


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(reset_limit, methods=["POST"])
def forgot() -> Any:
    """Ask for a link that sets a new password. The answer is the same whether or not an account has the
    address, so the page tells no one which addresses have accounts."""
    form = ForgotForm()
    if form.validate_on_submit():
        request_reset(form.email.data or "", utcnow())
        db.session.commit()
        flash(
            _(
                "If a staff account has this address, a link to choose a new password is on its way to it. "
                "It works once, for %(minutes)s minutes.",
                minutes=current_app.config["RESET_LINK_MINUTES"],
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form, minutes=current_app.config["RESET_LINK_MINUTES"])


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token: str) -> Any:
    """The page a new-password link opens: it sets the password once, then every session ends."""
    user = user_for_reset(token)
    if user is None:
        flash(_("This link has expired or has been used. Ask for a new one."), "error")
        return redirect(url_for("auth.forgot"))
    form = ResetForm()
    if form.validate_on_submit():
        try:
            reset_password(user, form.new.data or "")
        except WeakPassword as error:
            db.session.rollback()
            form.new.errors.append(str(error))
        else:
            db.session.commit()
            if current_user.is_authenticated:
                logout_user()
            fresh_session()
            flash(_("Your password is set. Sign in with it."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form, email=user.email), 422 if form.errors else 200


# --- administrators: staff accounts


def _streets() -> list[tuple[int, str]]:
    return [(s.id, s.name) for s in db.session.scalars(select(Street).order_by(Street.name))]


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/users", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def users() -> Any:
    form = UserForm(streets=_streets())
    if form.validate_on_submit():
        street = db.session.get(Street, int(form.street.data)) if form.street.data else None
        actor = f"user:{current_user.id}"
        by_link = not form.password.data
        try:
            user = create_user(
                form.email.data or "",
                form.name.data or "",
                form.password.data or secrets.token_urlsafe(32),  # by link: a password nobody knows
                Role(form.role.data),
                street,
                actor=actor,
                change_due=not by_link,  # a password the administrator knows: its owner changes it
            )
            if by_link and not send_reset_link(user, actor, utcnow()):
                raise AccountError(_("This address cannot take e-mail: give a first password instead."))
        except WeakPassword as error:
            db.session.rollback()
            form.password.errors.append(str(error))
        except AccountError as error:
            db.session.rollback()
            form.email.errors.append(str(error))
        else:
            db.session.commit()
            if by_link:
                flash(
                    _(
                        "The account is created. A link to choose a password is on its way to %(email)s.",
                        email=user.email,
                    ),
                    "success",
                )
            else:
                flash(_("The account is created."), "success")
            return redirect(url_for("auth.users"))
    accounts = db.session.scalars(select(User).order_by(User.role, User.email)).all()
    return render_template(
        "admin/users.html",
        users=accounts,
        form=form,
        role_labels=ROLE_LABELS,
        streets=_streets(),
        reset_minutes=current_app.config["RESET_LINK_MINUTES"],
    )


@bp.post("/users/<int:user_id>/<any(disable,enable,'sign-out','reset-link','two-step-off'):what>")
@role_required(Role.ADMIN)
def user_action(user_id: int, what: str) -> Any:
    user = _user_or_404(user_id)
    actor = f"user:{current_user.id}"
    if user.id == current_user.id and what == "disable":
        flash(_("You cannot disable your own account."), "error")
        return redirect(url_for("auth.users"))
    if what == "two-step-off":
        reset_two_step(user, actor)
        db.session.commit()
        flash(
            _("Two-step sign-in is off for %(email)s; their sessions have ended.", email=user.email),
            "success",
        )
        return redirect(url_for("auth.users"))
    if what == "reset-link":
        if not send_reset_link(user, actor, utcnow()):
            flash(_("No link was sent: the account is disabled or its address cannot take e-mail."), "error")
            return redirect(url_for("auth.users"))
        db.session.commit()
        flash(_("A link to choose a new password is on its way to %(email)s.", email=user.email), "success")
        return redirect(url_for("auth.users"))
    if what == "sign-out":
        sign_out_everywhere(user, actor)
    else:
        set_active(user, what == "enable", actor)
    db.session.commit()
    flash(_("Done: %(email)s.", email=user.email), "success")
    return redirect(url_for("auth.users"))


@bp.post("/users/sign-out-everyone")
@role_required(Role.ADMIN)
def sign_out_all() -> Any:
    """Every staff session ends, on every device; the administrator who asked goes on in a new one."""
    admin = current_user._get_current_object()  # the account itself, not the proxy to it
    count = sign_out_everyone(f"user:{admin.id}")
    _new_staff_session(admin)
    db.session.commit()
    flash(_("Every staff session has ended (%(n)s accounts). Everyone signs in again.", n=count), "success")
    return redirect(url_for("auth.users"))


@bp.post("/users/<int:user_id>/role")
@role_required(Role.ADMIN)
def user_role(user_id: int) -> Any:
    user = _user_or_404(user_id)
    role = request.form.get("role", "")
    street_id = request.form.get("street", type=int)
    if role not in {r.value for r in Role}:
        abort(400)
    try:
        set_role(
            user,
            Role(role),
            db.session.get(Street, street_id) if street_id else None,
            f"user:{current_user.id}",
        )
    except AccountError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("Done: %(email)s.", email=user.email), "success")
    return redirect(url_for("auth.users"))
