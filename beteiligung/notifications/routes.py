from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..access import allow
from ..account.forms import ConfirmForm
from ..extensions import db
from ..forms import page_number
from ..roles import SIGNED_IN
from . import bp
from .models import Notification
from .services import MODE_LABELS, mark_all_read, mode_of


@bp.route("/")
@allow(SIGNED_IN)
def index():
    query = (select(Notification).where(Notification.user_id == current_user.id)
             .order_by(Notification.created_at.desc(), Notification.id.desc()))
    page = db.paginate(query, page=page_number(), per_page=30, error_out=False)
    return render_template("notifications/index.html", page=page, form=ConfirmForm(),
                           mode_label=MODE_LABELS[mode_of(current_user)])


@bp.route("/gelesen", methods=["POST"])
@allow(SIGNED_IN)
def mark_read():
    if ConfirmForm().validate_on_submit():
        mark_all_read(current_user)
        db.session.commit()
        flash(_("Alle Benachrichtigungen sind als gelesen markiert."), "success")
    return redirect(url_for("notifications.index"))
