"""The outbox page for admins (with re-send), and the unsubscribe page for recipients."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from consult.auth.decorators import role_required
from consult.auth.models import Role
from consult.errors import ConsultError
from consult.errors import NotFound
from consult.extensions import db
from consult.i18n import LANGUAGE_NAMES
from consult.notify import services
from consult.notify.emails import html_lang
from consult.notify.emails import read_unsubscribe_token
from consult.notify.models import NoticeKind
from consult.notify.models import OutboxMessage
from consult.notify.models import OutboxStatus
from consult.notify.rules import mask_address

bp = Blueprint("notify", __name__, url_prefix="/notify")

KIND_LABELS = {
    NoticeKind.ROUND_OPENED: _l("Round opened"),
    NoticeKind.ROUND_CLOSING: _l("Round closing"),
    NoticeKind.COMMENT_ANSWERED: _l("Comment answered"),
    NoticeKind.VOTE_RECEIVED: _l("Vote received"),
    NoticeKind.PANEL_INVITATION: _l("Panel invitation"),
    NoticeKind.RECORD_RETURNED: _l("Record returned"),
    NoticeKind.RECORD_APPROVED: _l("Record approved"),
    NoticeKind.PASSWORD_RESET: _l("New-password link"),
}

STATUS_LABELS = {
    OutboxStatus.PENDING: _l("Waiting"),
    OutboxStatus.SENDING: _l("Being sent"),
    OutboxStatus.SENT: _l("Sent"),
    OutboxStatus.FAILED: _l("Sending failed"),
    OutboxStatus.CANCELLED: _l("Cancelled"),
}

#: The tabs of the outbox page; "pending" also lists the messages being sent.
TABS = (OutboxStatus.PENDING, OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.CANCELLED)
#: cancelled messages were cancelled by an unsubscribe, which a re-send would not override
RESENDABLE = (OutboxStatus.SENT, OutboxStatus.FAILED)


@bp.get("/outbox")
@role_required(Role.ADMIN)
def outbox() -> Any:
    try:
        status = OutboxStatus(request.args.get("status", OutboxStatus.PENDING.value))
    except ValueError:
        abort(404)
    if status not in TABS:
        abort(404)
    counts = services.status_counts()
    counts[OutboxStatus.PENDING] += counts.pop(OutboxStatus.SENDING)
    page = db.paginate(services.outbox_query(status), per_page=50, error_out=False)
    return render_template(
        "notify/outbox.html",
        status=status,
        tabs=[(tab, STATUS_LABELS[tab], counts[tab]) for tab in TABS],
        page=page,
        kind_labels=KIND_LABELS,
        status_labels=STATUS_LABELS,
        resendable=RESENDABLE,
    )


@bp.get("/outbox/<int:message_id>")
@role_required(Role.ADMIN)
def message(message_id: int) -> Any:
    found = db.get_or_404(OutboxMessage, message_id)
    return render_template(
        "notify/message.html",
        message=found,
        tab=OutboxStatus.PENDING if found.status is OutboxStatus.SENDING else found.status,
        language_names=LANGUAGE_NAMES,
        kind_labels=KIND_LABELS,
        status_labels=STATUS_LABELS,
        resendable=RESENDABLE,
    )


@bp.post("/outbox/<int:message_id>/resend")
@role_required(Role.ADMIN)
def resend(message_id: int) -> Any:
    try:
        queued = services.resend(message_id, actor=f"user:{current_user.id}")
    except NotFound:
        abort(404)
    except ConsultError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("notify.message", message_id=message_id))
    db.session.commit()
    flash(_("Message %(id)s will be sent again.", id=queued.id), "success")
    return redirect(url_for("notify.outbox", status=OutboxStatus.PENDING.value))


@contextmanager
def _language_of(locale: str) -> Iterator[dict[str, str]]:
    """Serve the page in the language of the messages the link came in, unless the visitor chose one.

    Yields the template variables that name the page's language.
    """
    if session.get("lang") or locale not in current_app.config["LANGUAGES"]:
        yield {}
        return
    with force_locale(locale):
        yield {"current_locale": locale, "html_lang": html_lang(locale)}


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str) -> Any:
    """GET shows what the link would do and a button; only the POST (with its CSRF token) acts."""
    found = read_unsubscribe_token(token)
    if found is None:
        abort(404)
    address, locale = found
    with _language_of(locale) as language:
        if request.method == "POST":
            services.unsubscribe(address)
            db.session.commit()
            flash(_("You will no longer get these notices."), "success")
            return redirect(url_for("notify.unsubscribe", token=token))
        return render_template(
            "notify/unsubscribe.html",
            token=token,
            masked=mask_address(address),
            done=services.is_unsubscribed(address),
            **language,
        )
