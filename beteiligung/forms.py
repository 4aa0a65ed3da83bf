"""Validators and fields shared by the forms of every area (German messages)."""
import unicodedata

from flask_babel import lazy_gettext as _l
from wtforms import ValidationError
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


def page_number():
    """The `page` request argument for paginated lists: 1 when missing or invalid."""
    from flask import request

    return request.args.get("page", 1, type=int) or 1


def attach_error(form, error, prefix=""):
    """Show a service error (with .message and .field) at its field, or as a flash above the form."""
    from flask import flash

    field = getattr(form, prefix + error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = list(field.errors) + [error.message]
    else:
        flash(error.message, "error")


def strip(value):
    return value.strip() if isinstance(value, str) else value
