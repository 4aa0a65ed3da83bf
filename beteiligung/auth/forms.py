from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import EqualTo

from ..forms import BotTrapMixin, HoneypotMixin, email_address, length, max_length, plain_text, required, strip


class LoginForm(HoneypotMixin, FlaskForm):
    """Honeypot only: password managers send a login form within a second."""

    email = EmailField(_l("E-Mail-Adresse"), validators=[required(), max_length(254)], filters=[strip],
                       render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Passwort"), validators=[required(), max_length(200)],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("Angemeldet bleiben (auf diesem Gerät, 30 Tage)"))
    next = HiddenField()
    submit = SubmitField(_l("Anmelden"))


class NewPasswordMixin:
    password = PasswordField(
        _l("Passwort"),
        validators=[required(), max_length(200)],
        description=_l("Mindestens 10 Zeichen. Am sichersten sind mehrere Wörter, die nicht zusammengehören."),
        render_kw={"autocomplete": "new-password"},
    )
    password_confirm = PasswordField(
        _l("Passwort wiederholen"),
        validators=[required(), EqualTo("password", message=_l("Die Passwörter stimmen nicht überein."))],
        render_kw={"autocomplete": "new-password"},
    )


class RegisterForm(BotTrapMixin, NewPasswordMixin, FlaskForm):
    email = EmailField(_l("E-Mail-Adresse"), validators=[required(), max_length(254), email_address()],
                       filters=[strip], render_kw={"autocomplete": "email"})
    display_name = StringField(
        _l("Anzeigename"),
        validators=[required(), length(2, 80), plain_text],
        filters=[strip],
        description=_l("Wird öffentlich bei Ihren Beiträgen angezeigt. Ein Vorname oder ein Pseudonym genügt."),
        render_kw={"autocomplete": "nickname"},
    )
    privacy = BooleanField(
        _l("Ich habe die Datenschutzerklärung gelesen und bin mit der Verarbeitung meiner Angaben einverstanden."),
        validators=[required(_l("Bitte stimmen Sie der Datenschutzerklärung zu."))],
    )
    submit = SubmitField(_l("Konto anlegen"))


class ForgotPasswordForm(BotTrapMixin, FlaskForm):
    email = EmailField(_l("E-Mail-Adresse"), validators=[required(), max_length(254)], filters=[strip],
                       render_kw={"autocomplete": "email"})
    submit = SubmitField(_l("Link anfordern"))


class ResetPasswordForm(BotTrapMixin, NewPasswordMixin, FlaskForm):
    submit = SubmitField(_l("Passwort speichern"))


class LogoutForm(FlaskForm):
    submit = SubmitField(_l("Abmelden"))
