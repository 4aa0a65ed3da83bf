from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import NumberRange, Optional

from ..forms import max_length, strip
from ..ideas.forms import sector_choices
from ..measures.models import REASON_MAX, TITLE_MAX
from ..measures.services import DESCRIPTION_MAX


class StartForm(FlaskForm):
    q = StringField(_l("Suche"), filters=[strip], validators=[Optional(), max_length(200)])
    sector = SelectField(_l("Handlungsfeld"), validate_choice=False)
    district = SelectField(_l("Stadtteil"), validate_choice=False)
    status = SelectField(_l("Status"), validate_choice=False)
    source = SelectField(_l("Herkunft"), validate_choice=False)
    k = StringField(_l("Zahl der Gruppen"), default="auto", filters=[strip], validators=[max_length(8)],
                    description=_l("„auto“ wählt die Zahl selbst; oder eine Zahl von 2 bis 200."))
    seed = IntegerField(_l("Startwert"), default=0, validators=[
        Optional(), NumberRange(0, 2**31 - 1, message=_l("Der Startwert muss eine ganze Zahl von 0 bis 2147483647 sein."))],
                        description=_l("Gleicher Startwert und gleiche Ideen ergeben die gleichen Gruppen."))
    submit = SubmitField(_l("Analyse starten"))


class TriageForm(FlaskForm):
    """One form per page of ideas: field-of-action decisions, and (on a cluster) measure assignment."""
    ids = SelectMultipleField(_l("Ausgewählte Ideen"), coerce=int, validate_choice=False)
    save_sectors = SubmitField(_l("Handlungsfelder der Auswahl speichern"))
    measure = SelectField(_l("Bestehende Maßnahme"), validate_choice=False)
    reason = TextAreaField(_l("Begründung (öffentlich)"), filters=[strip], validators=[max_length(REASON_MAX)],
                           description=_l("Erscheint bei den Ideen und auf der Maßnahmenseite."))
    assign = SubmitField(_l("Auswahl der Maßnahme zuordnen"))
    title = StringField(_l("Titel der neuen Maßnahme"), filters=[strip], validators=[max_length(TITLE_MAX)])
    sector = SelectField(_l("Handlungsfeld der neuen Maßnahme"), validate_choice=False)
    description = TextAreaField(_l("Beschreibung"), filters=[strip], validators=[max_length(DESCRIPTION_MAX)])
    create = SubmitField(_l("Neue Maßnahme anlegen und Auswahl zuordnen"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sector.choices = sector_choices()


class MergeForm(FlaskForm):
    target = SelectField(_l("Zielidee (bleibt offen)"), coerce=int, validate_choice=False)
    merge = SelectMultipleField(_l("Zusammenführen"), coerce=int, validate_choice=False)
    answer = TextAreaField(_l("Öffentliche Antwort an die zusammengeführten Ideen"), filters=[strip],
                           validators=[max_length(5000)])
    submit = SubmitField(_l("Zusammenführen"))
    dismiss = SubmitField(_l("Keine Duplikate"))
