"""Login, logout, registration, password reset and e-mail confirmation."""
from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy.exc import IntegrityError

from ..access import allow, safe_next
from ..extensions import config_limit, db, limiter
from . import bp, services
from .forms import ForgotPasswordForm, LoginForm, LogoutForm, RegisterForm, ResetPasswordForm
from ..roles import EVERYONE, SIGNED_IN


def _login_failed(response):
    return g.get("login_failed", False)



@bp.route("/anmelden", methods=["GET", "POST"])
@allow(EVERYONE)
@limiter.limit(config_limit("LOGIN_RATE_LIMIT"), methods=["POST"], deduct_when=_login_failed)
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user, remember=form.remember.data)
            services.record_login(user)
            db.session.commit()
            flash(_("Sie sind angemeldet."), "success")
            return redirect(safe_next(form.next.data))
        g.login_failed = True
        # One message for unknown addresses and wrong passwords: no account enumeration.
        form.password.errors.append(_("E-Mail-Adresse oder Passwort ist nicht korrekt."))
    elif request.method == "POST":
        g.login_failed = True
    return render_template("auth/login.html", form=form)


@bp.route("/abmelden", methods=["POST"])
@allow(SIGNED_IN)
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
        logout_user()
        flash(_("Sie sind abgemeldet."), "success")
    return redirect(url_for("main.index"))


@bp.route("/registrieren", methods=["GET", "POST"])
@allow(EVERYONE)
@limiter.limit(config_limit("REGISTER_RATE_LIMIT"), methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("account.index"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = services.register_user(form.email.data, form.display_name.data, form.password.data)
            db.session.commit()
        except services.WeakPassword as error:
            form.password.errors.extend(error.problems)
        except services.EmailTaken as error:
            form.email.errors.append(str(error))
        except IntegrityError:  # the same address registered by a concurrent request
            db.session.rollback()
            form.email.errors.append(_("Für diese E-Mail-Adresse gibt es bereits ein Konto."))
        else:
            login_user(user)
            services.record_login(user)
            db.session.commit()
            flash(_("Willkommen! Ihr Konto ist angelegt und Sie sind angemeldet."), "success")
            return redirect(url_for("account.index"))
    return render_template("auth/register.html", form=form)


@bp.route("/passwort-vergessen", methods=["GET", "POST"])
@allow(EVERYONE)
@limiter.limit(config_limit("RESET_RATE_LIMIT"), methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()
        # The same answer whether or not the address has an account.
        flash(_("Wenn zu dieser Adresse ein Konto besteht, haben wir einen Link zum Zurücksetzen "
                "des Passworts dorthin geschickt. Bitte sehen Sie auch im Spam-Ordner nach."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/passwort-zuruecksetzen/<token>", methods=["GET", "POST"])
@allow(EVERYONE)
@limiter.limit(config_limit("RESET_RATE_LIMIT"), methods=["POST"])
def reset_password(token):
    try:
        user = services.user_for_reset_token(token)
    except services.InvalidToken as error:
        flash(str(error), "error")
        return redirect(url_for("auth.forgot_password"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.set_password(user, form.password.data)
        except services.WeakPassword as error:
            form.password.errors.extend(error.problems)
        else:
            db.session.commit()
            logout_user()
            flash(_("Ihr Passwort wurde geändert. Bitte melden Sie sich mit dem neuen Passwort an."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form, token=token)


@bp.route("/email-bestaetigen/<token>")
@allow(EVERYONE)
def confirm_email(token):
    try:
        services.confirm_email_change(token)
        db.session.commit()
    except services.AccountError as error:
        db.session.rollback()
        flash(str(error), "error")
    except IntegrityError:
        db.session.rollback()
        flash(_("Diese E-Mail-Adresse wird inzwischen von einem anderen Konto verwendet."), "error")
    else:
        flash(_("Ihre neue E-Mail-Adresse ist bestätigt."), "success")
    if current_user.is_authenticated:
        return redirect(url_for("account.index"))
    return redirect(url_for("auth.login"))
