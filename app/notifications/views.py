"""The inbox pages: list, open (marks read and follows the link), mark read, mark all read,
email preferences. Thin views: read the input, call the operation, commit, render."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.extensions import db
from app.forms.notifications import preferences_form
from app.models.types import utcnow
from app.notifications import bp, inbox
from app.notifications.messages import KINDS
from app.notifications.preferences import configurable_kinds, modes_of, save_modes
from app.sqlite_reads import writes_on_read


@bp.get("/")
@login_required
def inbox_list():
    unread_only = request.args.get("unread") in ("1", "on", "true")
    page = inbox.inbox_page(
        current_user,
        request.args.get("page", 1, type=int) or 1,
        current_app.config["PAGE_SIZE"],
        unread_only=unread_only,
    )
    return render_template("notifications/inbox.html", page=page, unread_only=unread_only)


@bp.get("/<int:notification_id>")
@login_required
@writes_on_read
def open_item(notification_id: int):
    notification = inbox.mark_read(current_user, notification_id, utcnow())
    target = inbox.link_path(notification)
    db.session.commit()
    return redirect(target)


@bp.post("/<int:notification_id>/read")
@login_required
def mark_read(notification_id: int):
    inbox.mark_read(current_user, notification_id, utcnow())
    db.session.commit()
    return redirect(url_for("notifications.inbox_list", **request.args))


@bp.post("/read-all")
@login_required
def mark_all_read():
    count = inbox.mark_all_read(current_user, utcnow())
    db.session.commit()
    flash(_("%(count)d notifications marked as read.", count=count), "success")
    return redirect(url_for("notifications.inbox_list"))


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    form = preferences_form(modes_of(current_user.id))
    if form.validate_on_submit():
        save_modes(current_user.id, {kind: form[kind].data for kind in configurable_kinds()})
        db.session.commit()
        flash(_("Your email preferences are saved."), "success")
        return redirect(url_for("notifications.preferences"))
    urgent = [KINDS[code].label for code, kind in KINDS.items() if kind.urgent]
    return render_template(
        "notifications/preferences.html", form=form, kinds=configurable_kinds(), urgent=urgent
    )
