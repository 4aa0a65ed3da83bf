from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, RadioField, StringField, SubmitField, ValidationError

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


def _known_mode(form, field):
    from ..notifications.services import MODES

    if field.data not in MODES:
        raise ValidationError(_l("Bitte wählen Sie, wie Benachrichtigungen Sie per E-Mail erreichen: sofort, "
                                 "täglich als Zusammenfassung oder keine E-Mails."))


class NotificationModeForm(FlaskForm):
    notification_mode = RadioField(
        _l("Benachrichtigungen per E-Mail"), validate_choice=False,
        validators=[required(_l("Bitte wählen Sie, wie Benachrichtigungen Sie per E-Mail erreichen.")), _known_mode],
    )
    submit = SubmitField(_l("Einstellung speichern"))

    def __init__(self, *args, **kwargs):
        from ..notifications.services import MODE_LABELS, MODES

        super().__init__(*args, **kwargs)
        self.notification_mode.choices = [(mode, MODE_LABELS[mode]) for mode in MODES]


class CalendarTokenForm(FlaskForm):
    submit = SubmitField(_l("Kalender-Link erzeugen"))
