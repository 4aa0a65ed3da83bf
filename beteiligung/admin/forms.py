from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import Optional

from ..roles import Role
from ..forms import max_length, plain_text, strip


def role_choices():
    return [(role.value, role.label) for role in Role]


class RoleForm(FlaskForm):
    role = SelectField(_l("Rolle"), choices=role_choices)
    reason = TextAreaField(_l("Begründung (für das Protokoll, optional)"),
                           validators=[Optional(), max_length(500), plain_text], filters=[strip])
    submit = SubmitField(_l("Rolle speichern"))


class UserFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    q = StringField(_l("Suche nach Name oder E-Mail"), validators=[Optional(), max_length(100)], filters=[strip])
    role = SelectField(_l("Rolle"), choices=lambda: [("", _l("alle Rollen"))] + role_choices(),
                       validators=[Optional()])
    submit = SubmitField(_l("Filtern"))
