"""Validators and fields shared by the forms of every area (German messages)."""
import time
import unicodedata

from flask import current_app, flash, request
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, URLSafeSerializer
from wtforms import HiddenField, StringField, ValidationError
from wtforms.validators import DataRequired, Email, Length


def required(message=None):
    return DataRequired(message=message or _l("Bitte füllen Sie dieses Feld aus."))


def max_length(n):
    return Length(max=n, message=_l("Höchstens %(max)d Zeichen.", max=n))


def length(minimum, maximum):
    return Length(min=minimum, max=maximum,
                  message=_l("Bitte %(min)d bis %(max)d Zeichen.", min=minimum, max=maximum))


def email_address():
    return Email(message=_l("Bitte geben Sie eine gültige E-Mail-Adresse an."),
                 check_deliverability=False)


def plain_text(form, field):
    """Refuse control characters (except line breaks and tabs) in free text."""
    for char in field.data or "":
        if unicodedata.category(char) in {"Cc", "Cf"} and char not in "\n\r\t":
            raise ValidationError(_l("Der Text enthält unzulässige Steuerzeichen."))


MAX_PAGE = 100_000  # beyond any list; larger numbers would overflow the database's OFFSET


def page_number():
    """The `page` request argument for paginated lists: 1 when missing or invalid."""
    return min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)


def attach_error(form, error, prefix=""):
    """Show a service error (with .message and .field) at its field, or as a flash above the form."""
    field = getattr(form, prefix + error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = list(field.errors) + [error.message]
    else:
        flash(error.message, "error")


def strip(value):
    return value.strip() if isinstance(value, str) else value


# --- bot trap: honeypot and minimum fill time for public forms --------------------------------

FORM_STARTED_SALT = "beteiligung.form-started"
BOT_TRAP_MESSAGE = _l("Das Formular wurde ungewöhnlich schnell abgeschickt. Bitte prüfen Sie Ihre Eingaben "
                      "und senden Sie es noch einmal ab.")


def _form_started_serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=FORM_STARTED_SALT)


def form_started_token(now=None):
    """A signed timestamp (milliseconds) of the moment a form was handed out."""
    now = time.time() if now is None else now
    return _form_started_serializer().dumps(int(now * 1000))


def form_age_seconds(token, now=None):
    """Seconds since `token` was issued, or None when it is missing, malformed or forged."""
    if not token or not isinstance(token, str) or len(token) > 200:
        return None
    try:
        issued_ms = _form_started_serializer().loads(token)
    except BadData:
        return None
    if not isinstance(issued_ms, int) or isinstance(issued_ms, bool):
        return None
    now = time.time() if now is None else now
    return now - issued_ms / 1000


class HoneypotMixin:
    """A text field `homepage` that people never see (templates/_bot_trap.html hides it) and
    bots tend to fill. A filled honeypot refuses the form with the bot-trap message.

    Put the mixin before FlaskForm: `class LoginForm(HoneypotMixin, FlaskForm)`.
    """

    homepage = StringField(_l("Dieses Feld bitte leer lassen"), render_kw={"autocomplete": "off", "tabindex": "-1"})

    bot_trapped = False  # set by validate(): the form was refused as probably automated

    def bot_trap_problem(self):
        """Why the form looks automated (for the log only), or None."""
        if (self.homepage.data or "").strip():
            return "honeypot filled"
        return None

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        problem = self.bot_trap_problem()
        if problem is None:
            return valid
        current_app.logger.warning("form %s on %s refused: %s", type(self).__name__, request.path, problem)
        self.bot_trapped = True
        # One message whatever the check was: a bot learns nothing, a person just sends again.
        self.form_errors.append(BOT_TRAP_MESSAGE)
        self.reset_bot_trap()
        return False

    def reset_bot_trap(self):
        """Prepare the form for showing it again: the honeypot empty (in case a browser filled it)."""
        self.homepage.data = ""
        self.homepage.raw_data = []


class BotTrapMixin(HoneypotMixin):
    """Honeypot plus minimum fill time: the hidden field `form_started` carries the signed moment the
    form was handed out; a form sent back sooner than FORM_MIN_FILL_SECONDS, or without a valid
    `form_started`, is refused like a filled honeypot. Nothing is saved; the route shows the form
    again with the entered data and a fresh `form_started`."""

    form_started = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.form_started.raw_data:  # handed out now (or sent without one: refused in validate)
            self.form_started.data = form_started_token()

    def bot_trap_problem(self):
        problem = super().bot_trap_problem()
        if problem is not None:
            return problem
        sent = self.form_started.raw_data[0] if self.form_started.raw_data else ""
        age = form_age_seconds(sent)
        if age is None:
            return "form_started missing or invalid"
        if age < current_app.config.get("FORM_MIN_FILL_SECONDS", 3):
            return f"sent after {age:.1f} s"
        return None

    def reset_bot_trap(self):
        super().reset_bot_trap()
        self.form_started.data = form_started_token()
