from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField, SubmitField

from ..auth.forms import NewPasswordMixin
from ..forms import email_address, length, max_length, plain_text, required, strip


class ProfileForm(FlaskForm):
    display_name = StringField(
        _l("Anzeigename"), validators=[required(), length(2, 80), plain_text], filters=[strip],
        description=_l("Wird öffentlich bei Ihren Beiträgen angezeigt."),
    )
    submit = SubmitField(_l("Speichern"))


class EmailChangeForm(FlaskForm):
    email = EmailField(_l("Neue E-Mail-Adresse"), validators=[required(), max_length(254), email_address()],
                       filters=[strip], render_kw={"autocomplete": "email"})
    current_password = PasswordField(_l("Aktuelles Passwort"), validators=[required(), max_length(200)],
                                     render_kw={"autocomplete": "current-password"})
    submit = SubmitField(_l("Bestätigungslink senden"))


class PasswordChangeForm(NewPasswordMixin, FlaskForm):
    current_password = PasswordField(_l("Aktuelles Passwort"), validators=[required(), max_length(200)],
                                     render_kw={"autocomplete": "current-password"})
    submit = SubmitField(_l("Passwort ändern"))


class TokenForm(FlaskForm):
    name = StringField(_l("Wofür ist das Token?"), validators=[required(), length(2, 80), plain_text],
                       filters=[strip], description=_l("Zum Beispiel: Auswertung im Fachamt"))
    submit = SubmitField(_l("Token erzeugen"))


class ConfirmForm(FlaskForm):
    """A bare form for buttons that change something (revoke, resend)."""
    submit = SubmitField(_l("Bestätigen"))


class DeleteAccountForm(FlaskForm):
    current_password = PasswordField(_l("Ihr Passwort"), validators=[required(), max_length(200)],
                                     render_kw={"autocomplete": "current-password"})
    confirm = BooleanField(
        _l("Ich möchte mein Konto endgültig löschen. Meine Beiträge bleiben ohne meinen Namen sichtbar."),
        validators=[required(_l("Bitte bestätigen Sie die Löschung."))],
    )
    submit = SubmitField(_l("Konto endgültig löschen"))
