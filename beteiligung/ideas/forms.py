from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (FloatField, HiddenField, IntegerField, SelectField, SelectMultipleField, StringField,
                     SubmitField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional

from ..forms import BotTrapMixin, max_length, plain_text, required, strip
from .models import COMMENT_MAX, TEXT_MAX, TITLE_MAX, REPORT_REASON_LABELS, SOURCE_LABELS, STATUS_LABELS, Source
from .services import active_districts, active_sectors

UNKNOWN_SECTOR = "unbekannt"


def sector_choices(unknown_label=None):
    choices = [SelectChoice(sector.code, sector.name) for sector in active_sectors()]
    if unknown_label:
        choices.insert(0, SelectChoice(UNKNOWN_SECTOR, unknown_label))
    return choices


def district_choices(placeholder=None):
    choices = [SelectChoice(district.code, district.name) for district in active_districts()]
    if placeholder:
        choices.insert(0, SelectChoice("", placeholder))
    return choices


class IdeaForm(BotTrapMixin, FlaskForm):
    title = StringField(_l("Titel"), validators=[required(), max_length(TITLE_MAX), plain_text], filters=[strip],
                        description=_l("Kurz und treffend, höchstens %(max)d Zeichen.", max=TITLE_MAX),
                        render_kw={"maxlength": TITLE_MAX, "autocomplete": "off"})
    text = TextAreaField(
        _l("Beschreibung"), validators=[required(), max_length(TEXT_MAX), plain_text], filters=[strip],
        description=_l("Was schlagen Sie vor, wo und warum? Höchstens %(max)d Zeichen. "
                       "Möglich sind **fett**, *kursiv*, Listen mit „- “ und Links.", max=TEXT_MAX),
        render_kw={"rows": 10, "maxlength": TEXT_MAX},
    )
    sector = SelectField(_l("Handlungsfeld"), validators=[required(_l("Bitte wählen Sie ein Handlungsfeld "
                                                                    "oder „weiß ich nicht“."))],
                         description=_l("Wenn Sie unsicher sind, wählen Sie „weiß ich nicht“; "
                                        "die Verwaltung ordnet die Idee dann zu."))
    district = SelectField(_l("Stadtteil"), validators=[required(_l("Bitte wählen Sie einen Stadtteil."))])
    latitude = FloatField(_l("Breitengrad"), validators=[Optional(), NumberRange(-90, 90)],
                          render_kw={"step": "any", "inputmode": "decimal"})
    longitude = FloatField(_l("Längengrad"), validators=[Optional(), NumberRange(-180, 180)],
                           render_kw={"step": "any", "inputmode": "decimal"})
    submit = SubmitField(_l("Idee veröffentlichen"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sector.choices = sector_choices(unknown_label=_l("weiß ich nicht"))
        self.district.choices = district_choices(placeholder=_l("Bitte wählen"))


class AnalogIdeaForm(FlaskForm):
    """Staff type in ideas from events; event, facilitator and source stay between entries."""
    source = SelectField(_l("Herkunft"), choices=[SelectChoice(s.value, SOURCE_LABELS[s]) for s in Source if s.is_analog],
                         validators=[required()])
    event_name = StringField(_l("Veranstaltung"), validators=[required(), max_length(200), plain_text],
                             filters=[strip], description=_l("Zum Beispiel: Bürgerforum Lobeda, 12.03."))
    facilitator = StringField(_l("Moderation / erfasst von"), validators=[Optional(), max_length(120), plain_text],
                              filters=[strip])
    title = StringField(_l("Titel"), validators=[required(), max_length(TITLE_MAX), plain_text], filters=[strip],
                        render_kw={"maxlength": TITLE_MAX, "autocomplete": "off"})
    text = TextAreaField(_l("Text der Karte"), validators=[required(), max_length(TEXT_MAX), plain_text],
                         filters=[strip], render_kw={"rows": 4, "maxlength": TEXT_MAX})
    sector = SelectField(_l("Handlungsfeld"), validators=[required()])
    district = SelectField(_l("Stadtteil"), validators=[required(_l("Bitte wählen Sie einen Stadtteil."))])
    dot_votes = IntegerField(_l("Klebepunkte"), default=0,
                             validators=[Optional(), NumberRange(0, 100000, _l("Bitte eine Zahl ab 0."))],
                             render_kw={"inputmode": "numeric", "min": 0})
    submit = SubmitField(_l("Speichern und nächste Idee"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sector.choices = sector_choices(unknown_label=_l("noch offen"))
        self.district.choices = district_choices(placeholder=_l("Bitte wählen"))


class CommentForm(BotTrapMixin, FlaskForm):
    text = TextAreaField(_l("Ihr Kommentar"), validators=[required(), max_length(COMMENT_MAX), plain_text],
                         filters=[strip], render_kw={"rows": 4, "maxlength": COMMENT_MAX})
    parent_id = HiddenField()
    submit = SubmitField(_l("Kommentar veröffentlichen"))


class ReportForm(BotTrapMixin, FlaskForm):
    reason = SelectField(_l("Warum melden Sie diesen Beitrag?"),
                         choices=[SelectChoice(reason.value, label) for reason, label in REPORT_REASON_LABELS.items()],
                         validators=[required()])
    note = TextAreaField(_l("Erläuterung (freiwillig)"), validators=[Optional(), max_length(500), plain_text],
                         filters=[strip], render_kw={"rows": 3, "maxlength": 500})
    submit = SubmitField(_l("Meldung absenden"))


class SupportForm(FlaskForm):
    """A bare form (CSRF only) for the support button."""


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Begründung"), validators=[required(), max_length(2000), plain_text],
                           filters=[strip], render_kw={"rows": 3},
                           description=_l("Die betroffene Person sieht diese Begründung."))
    submit = SubmitField(_l("Bestätigen"))


class StatusForm(FlaskForm):
    status = SelectField(_l("Neuer Status"), choices=[SelectChoice(s.value, label) for s, label in STATUS_LABELS.items()
                                                    if s.value != "submitted"], validators=[required()])
    merged_into = IntegerField(_l("Zusammengeführt mit Idee Nr."), validators=[Optional()],
                               description=_l("Nur beim Status „zusammengeführt“."))
    template = SelectField(_l("Antwortvorlage"), choices=[], validate_choice=False)
    answer = TextAreaField(_l("Öffentliche Antwort"), validators=[Optional(), max_length(TEXT_MAX)],
                           filters=[strip], render_kw={"rows": 6, "maxlength": TEXT_MAX},
                           description=_l("Pflicht bei jedem Status außer „in Prüfung“. "
                                          "Autorin, Autor und Unterstützende werden benachrichtigt."))
    submit = SubmitField(_l("Status setzen und benachrichtigen"))


class BulkStatusForm(StatusForm):
    ids = SelectMultipleField(_l("Ausgewählte Ideen"), coerce=int, validate_choice=False)
    submit = SubmitField(_l("Auswahl beantworten"))


class IdeaStaffForm(FlaskForm):
    sector = SelectField(_l("Handlungsfeld"), validators=[required()])
    dot_votes = IntegerField(_l("Klebepunkte"), validators=[Optional(), NumberRange(0, 100000)])
    submit = SubmitField(_l("Zuordnung speichern"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sector.choices = sector_choices(unknown_label=_l("noch offen"))


class FilterForm(FlaskForm):
    """The filters of the list page (GET, no CSRF)."""

    class Meta:
        csrf = False

    q = StringField(_l("Suche"), validators=[Optional(), max_length(200)], filters=[strip])
    sector = SelectField(_l("Handlungsfeld"), validate_choice=False)
    district = SelectField(_l("Stadtteil"), validate_choice=False)
    status = SelectField(_l("Status"), validate_choice=False)
    source = SelectField(_l("Herkunft"), validate_choice=False)
    sort = SelectField(_l("Sortierung"), validate_choice=False)
