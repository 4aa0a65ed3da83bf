"""The staff area: overview, users and roles, outbox and audit log."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select

from ..access import allow
from ..account.forms import ConfirmForm
from ..audit.models import AuditEntry
from ..audit.services import entries_for
from ..auth import services as auth
from ..auth.models import User
from ..roles import ADMIN, STAFF, Role
from ..extensions import db
from ..forms import page_number
from ..mail.models import STATUSES, OutboxMessage
from ..mail.services import requeue, smtp_configured
from . import bp
from .forms import RoleForm, UserFilterForm

PER_PAGE = 50



def _like(term):
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@bp.route("/")
@allow(STAFF)
def index():
    users_by_role = dict(
        db.session.execute(
            select(User.role, func.count(User.id)).where(User.deleted_at.is_(None)).group_by(User.role)
        ).all()
    )
    outbox_by_status = dict(
        db.session.execute(select(OutboxMessage.status, func.count(OutboxMessage.id))
                           .group_by(OutboxMessage.status)).all()
    )
    recent = db.session.scalars(
        select(AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).limit(10)
    ).all()
    return render_template(
        "admin/index.html",
        users_by_role=[(role, users_by_role.get(role.value, 0)) for role in Role],
        outbox_by_status=outbox_by_status,
        recent=recent,
        smtp=smtp_configured(),
    )


@bp.route("/benutzer")
@allow(ADMIN)
def users():
    form = UserFilterForm(request.args)
    query = select(User).where(User.deleted_at.is_(None)).order_by(User.id.desc())  # newest first
    if form.validate():
        if form.q.data:
            pattern = _like(form.q.data)
            query = query.where(or_(func.lower(User.email).like(pattern, escape="\\"),
                                    func.lower(User.display_name).like(pattern, escape="\\")))
        if form.role.data:
            query = query.where(User.role == form.role.data)
    page = db.paginate(query, page=page_number(), per_page=PER_PAGE, error_out=False)
    return render_template("admin/users.html", form=form, page=page)


@bp.route("/benutzer/<int:user_id>", methods=["GET", "POST"])
@allow(ADMIN)
def user(user_id):
    person = db.get_or_404(User, user_id)
    if person.is_deleted:
        abort(404)
    form = RoleForm(role=person.role)
    if form.validate_on_submit():
        try:
            changed = auth.change_role(person, form.role.data, actor=current_user, reason=form.reason.data or None)
        except auth.LastAdmin as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            if changed:
                flash(_("Die Rolle von %(name)s ist jetzt: %(role)s.", name=person.public_name,
                        role=Role(person.role).label), "success")
            else:
                flash(_("Die Rolle ist unverändert."), "info")
            return redirect(url_for("admin.user", user_id=person.id))
    return render_template("admin/user.html", person=person, form=form,
                           history=entries_for("user", person.id))


@bp.route("/postausgang")
@allow(ADMIN)
def outbox():
    status = request.args.get("status", "")
    query = select(OutboxMessage).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    if status in STATUSES:
        query = query.where(OutboxMessage.status == status)
    page = db.paginate(query, page=page_number(), per_page=PER_PAGE, error_out=False)
    return render_template("admin/outbox.html", page=page, status=status, statuses=STATUSES,
                           smtp=smtp_configured())


@bp.route("/postausgang/<int:message_id>")
@allow(ADMIN)
def outbox_message(message_id):
    message = db.get_or_404(OutboxMessage, message_id)
    return render_template("admin/outbox_message.html", message=message, form=ConfirmForm(),
                           smtp=smtp_configured())


@bp.route("/postausgang/<int:message_id>/erneut-senden", methods=["POST"])
@allow(ADMIN)
def outbox_retry(message_id):
    message = db.get_or_404(OutboxMessage, message_id)
    if ConfirmForm().validate_on_submit() and message.status == "failed":
        requeue(message)
        db.session.commit()
        flash(_("Die Nachricht wird erneut versandt."), "success")
    return redirect(url_for("admin.outbox_message", message_id=message.id))


@bp.route("/protokoll")
@allow(STAFF)
def audit_log():
    action = request.args.get("action", "").strip()[:64]
    query = select(AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    if action:
        query = query.where(AuditEntry.action == action)
    actions = db.session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)).all()
    page = db.paginate(query, page=page_number(), per_page=PER_PAGE, error_out=False)
    return render_template("admin/audit_log.html", page=page, action=action, actions=actions)
