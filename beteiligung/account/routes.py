"""The account page: profile, e-mail, password, API tokens, data export, deletion."""
import json

from flask import Response, abort, flash, redirect, render_template, session, url_for
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
from .forms import (ConfirmForm, DeleteAccountForm, EmailChangeForm, PasswordChangeForm, ProfileForm,
                    TokenForm)
from .services import CannotDelete, delete_account, export_personal_data


def _password_ok(form):
    if check_password_hash(current_user.password_hash or "", form.current_password.data or ""):
        return True
    form.current_password.errors.append(_("Das Passwort ist nicht korrekt."))
    return False


@bp.route("/", methods=["GET", "POST"])
@allow(SIGNED_IN)
def index():
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        current_user.display_name = form.display_name.data
        db.session.commit()
        flash(_("Ihr Anzeigename wurde gespeichert."), "success")
        return redirect(url_for("account.index"))
    return render_template("account/index.html", form=form)


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
