"""The account page: profile, notification settings, calendar link, e-mail, password, API tokens,
data export, deletion."""
import json

from flask import Response, abort, current_app, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.security import check_password_hash

from ..access import allow
from ..auth import services as auth
from ..auth.models import ApiToken
from ..roles import SIGNED_IN
from ..extensions import db
from ..models import utcnow
from . import bp
from . import preferences
from .forms import (CalendarTokenForm, ConfirmForm, DeleteAccountForm, EmailChangeForm, NotificationModeForm,
                    PasswordChangeForm, ProfileForm, TokenForm)
from .services import CannotDelete, delete_account, export_personal_data


def _password_ok(form):
    if check_password_hash(current_user.password_hash or "", form.current_password.data or ""):
        return True
    form.current_password.errors.append(_("Das Passwort ist nicht korrekt."))
    return False


def _render_index(form=None, mode_form=None, status=200):
    from ..notifications.services import MODE_HINTS, digest_hour, mode_of

    form = form or ProfileForm(obj=current_user)
    mode_form = mode_form or NotificationModeForm(formdata=None, notification_mode=mode_of(current_user))
    return render_template(
        "account/index.html", form=form, mode_form=mode_form, mode_hints=MODE_HINTS,
        digest_hour=digest_hour(current_app.config), calendar_form=CalendarTokenForm(),
        calendar_available=preferences.calendar_feed_available(),
        calendar_url=preferences.calendar_feed_url(current_user),
    ), status


@bp.route("/", methods=["GET", "POST"])
@allow(SIGNED_IN)
def index():
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        current_user.display_name = form.display_name.data
        db.session.commit()
        flash(_("Ihr Anzeigename wurde gespeichert."), "success")
        return redirect(url_for("account.index"))
    return _render_index(form=form)


@bp.route("/benachrichtigungsweg", methods=["POST"])
@allow(SIGNED_IN)
def notification_mode():
    from ..notifications.services import MODE_LABELS

    mode_form = NotificationModeForm()
    if not mode_form.validate_on_submit():
        return _render_index(mode_form=mode_form, status=400)
    mode = mode_form.notification_mode.data
    preferences.change_notification_mode(current_user, mode)
    db.session.commit()
    flash(_("Gespeichert: Benachrichtigungen per E-Mail – %(mode)s.", mode=MODE_LABELS[mode]), "success")
    return redirect(url_for("account.index", _anchor="benachrichtigungen"))


@bp.route("/kalender-link", methods=["POST"])
@allow(SIGNED_IN)
def calendar_token():
    if not CalendarTokenForm().validate_on_submit():
        flash(_("Die Anfrage war ungültig oder veraltet. Bitte versuchen Sie es noch einmal."), "error")
        return redirect(url_for("account.index", _anchor="kalender"))
    renewed = current_user.calendar_token is not None
    preferences.renew_calendar_token(current_user)
    db.session.commit()
    if renewed:
        flash(_("Ihr Kalender-Link wurde erneuert. Der bisherige Link funktioniert nicht mehr; tragen Sie den "
                "neuen in Ihrem Kalenderprogramm ein."), "success")
    else:
        flash(_("Ihr persönlicher Kalender-Link wurde erzeugt."), "success")
    return redirect(url_for("account.index", _anchor="kalender"))


@bp.route("/email", methods=["GET", "POST"])
@allow(SIGNED_IN)
def change_email():
    form = EmailChangeForm()
    if form.validate_on_submit() and _password_ok(form):
        try:
            auth.request_email_change(current_user, form.email.data)
        except auth.EmailTaken as error:
            form.email.errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Wir haben einen Bestätigungslink an %(email)s geschickt. Die neue Adresse gilt, "
                    "sobald Sie ihn öffnen.", email=auth.normalise_email(form.email.data)), "info")
            return redirect(url_for("account.index"))
    return render_template("account/email.html", form=form)


@bp.route("/passwort", methods=["GET", "POST"])
@allow(SIGNED_IN)
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit() and _password_ok(form):
        try:
            auth.set_password(current_user, form.password.data)
        except auth.WeakPassword as error:
            form.password.errors.extend(error.problems)
        else:
            db.session.commit()
            # The new session token ends all other sessions; this one continues.
            login_user(current_user._get_current_object())
            flash(_("Ihr Passwort wurde geändert. Andere Anmeldungen wurden beendet."), "success")
            return redirect(url_for("account.index"))
    return render_template("account/password.html", form=form)


@bp.route("/tokens", methods=["GET", "POST"])
@allow(SIGNED_IN)
def tokens():
    form = TokenForm()
    if form.validate_on_submit():
        token, secret = auth.create_api_token(current_user, form.name.data)
        db.session.commit()
        session["new_api_token"] = secret  # shown once on the next page, then gone
        flash(_("Das Token wurde erzeugt."), "success")
        return redirect(url_for("account.tokens"))
    new_secret = session.pop("new_api_token", None)
    items = db.session.scalars(
        db.select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.id.desc())
    ).all()
    return render_template("account/tokens.html", form=form, tokens=items, new_secret=new_secret,
                           revoke_form=ConfirmForm())


@bp.route("/tokens/<int:token_id>/widerrufen", methods=["POST"])
@allow(SIGNED_IN)
def revoke_token(token_id):
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    if ConfirmForm().validate_on_submit():
        auth.revoke_api_token(token)
        db.session.commit()
        flash(_("Das Token „%(name)s“ wurde widerrufen.", name=token.name), "success")
    return redirect(url_for("account.tokens"))


@bp.route("/daten.json")
@allow(SIGNED_IN)
def export():
    data = export_personal_data(current_user)
    filename = f"meine-daten-{utcnow():%Y-%m-%d}.json"
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@bp.route("/loeschen", methods=["GET", "POST"])
@allow(SIGNED_IN)
def delete():
    form = DeleteAccountForm()
    if form.validate_on_submit() and _password_ok(form):
        user = current_user._get_current_object()
        try:
            delete_account(user)
        except CannotDelete as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            logout_user()
            flash(_("Ihr Konto wurde gelöscht. Ihre öffentlichen Beiträge erscheinen jetzt als "
                    "„gelöschtes Konto“."), "success")
            return redirect(url_for("main.index"))
    return render_template("account/delete.html", form=form)
