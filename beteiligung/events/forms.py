"""Forms of the event pages: registration, the staff form of an event, cancelling, and
the results of an event entered as ideas. Times are entered in local time (Europe/Berlin);
services.to_utc turns them into UTC and refuses the hour skipped in March."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateTimeLocalField, FieldList, Form, FormField, IntegerField, SelectField,
                     StringField, SubmitField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional

from ..forms import BotTrapMixin, email_address, max_length, plain_text, required, strip
from ..ideas.forms import UNKNOWN_SECTOR, district_choices, sector_choices
from ..ideas.models import TEXT_MAX
from ..ideas.models import TITLE_MAX as IDEA_TITLE_MAX
from .models import NAME_MAX, PLACE_MAX, TITLE_MAX, URL_MAX, EventKind, RegistrationMode

LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
NO_SECTOR = ""
RESULT_ROWS = 5  # empty idea rows of the results form (more on request)
RESULT_ROWS_MAX = 40


def _local_time(label, *validators, description=None):
    return DateTimeLocalField(label, format=LOCAL_FORMATS, validators=list(validators), description=description)


class RegisterForm(BotTrapMixin, FlaskForm):
    note = StringField(_l("Hinweis an das Team (freiwillig)"), validators=[Optional(), max_length(PLACE_MAX),
                                                                            plain_text], filters=[strip],
                       description=_l("Zum Beispiel Bedarf an Barrierefreiheit oder Gebärdensprache."),
                       render_kw={"maxlength": PLACE_MAX})
    submit = SubmitField(_l("Verbindlich anmelden"))


class CancelRegistrationForm(FlaskForm):
    submit = SubmitField(_l("Abmelden"))


class EventForm(FlaskForm):
    kind = SelectField(_l("Art"), choices=[SelectChoice(kind.value, kind.label) for kind in EventKind],
                       validators=[required()])
    title = StringField(_l("Titel"), validators=[required(), max_length(TITLE_MAX), plain_text], filters=[strip],
                        render_kw={"maxlength": TITLE_MAX})
    topic = StringField(_l("Thema"), validators=[Optional(), max_length(TITLE_MAX), plain_text], filters=[strip],
                        description=_l("Zum Beispiel: Wärmewende im Quartier"), render_kw={"maxlength": TITLE_MAX})
    sector = SelectField(_l("Handlungsfeld"), validators=[Optional()])
    description = TextAreaField(_l("Beschreibung"), validators=[Optional(), max_length(10000), plain_text],
                                filters=[strip], render_kw={"rows": 8},
                                description=_l("Ablauf, Zielgruppe, was Teilnehmende mitbringen sollten."))
    starts_at = _local_time(_l("Beginn"), required(_l("Bitte geben Sie Datum und Uhrzeit des Beginns an.")),
                            description=_l("Ortszeit Berlin"))
    ends_at = _local_time(_l("Ende"), required(_l("Bitte geben Sie Datum und Uhrzeit des Endes an.")),
                          description=_l("Ortszeit Berlin"))
    place = StringField(_l("Ort"), validators=[Optional(), max_length(PLACE_MAX), plain_text], filters=[strip],
                        description=_l("Adresse und Raum; leer bei reinen Online-Veranstaltungen."),
                        render_kw={"maxlength": PLACE_MAX})
    online_url = StringField(_l("Online-Link"), validators=[Optional(), max_length(URL_MAX), plain_text],
                             filters=[strip], render_kw={"maxlength": URL_MAX, "inputmode": "url"},
                             description=_l("Zum Beispiel der Link zur Videokonferenz (https://…)."))
    facilitator = StringField(_l("Moderation"), validators=[Optional(), max_length(NAME_MAX), plain_text],
                              filters=[strip], render_kw={"maxlength": NAME_MAX},
                              description=_l("Name, wie er auf der Seite erscheint."))
    facilitator_email = StringField(_l("Konto der Moderation (E-Mail, freiwillig)"),
                                    validators=[Optional(), email_address(), max_length(254)], filters=[strip],
                                    render_kw={"inputmode": "email", "autocomplete": "off"},
                                    description=_l("Diese Person darf die Ergebnisse als Ideen eintragen."))
    registration = SelectField(_l("Anmeldung"),
                               choices=[SelectChoice(mode.value, mode.label) for mode in RegistrationMode],
                               validators=[required()])
    capacity = IntegerField(_l("Plätze"), validators=[Optional(), NumberRange(0, 100000, _l("Bitte eine Zahl ab 0."))],
                            render_kw={"inputmode": "numeric", "min": 0},
                            description=_l("Leer: unbegrenzt. Ist alles belegt, kommen weitere Anmeldungen auf die "
                                           "Warteliste."))
    registration_closes_at = _local_time(_l("Anmeldeschluss"), Optional(),
                                         description=_l("Leer: bis zum Beginn. Ortszeit Berlin."))
    published = BooleanField(_l("Veröffentlicht (im Kalender und in der Liste sichtbar)"), default=True)
    results_note = TextAreaField(_l("Zusammenfassung der Ergebnisse (öffentlich)"),
                                 validators=[Optional(), max_length(10000), plain_text], filters=[strip],
                                 render_kw={"rows": 4})
    submit = SubmitField(_l("Speichern"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sector.choices = [SelectChoice(NO_SECTOR, _l("kein bestimmtes"))] + sector_choices()


class CancelEventForm(FlaskForm):
    reason = StringField(_l("Grund der Absage"), validators=[required(), max_length(PLACE_MAX), plain_text],
                         filters=[strip], render_kw={"maxlength": PLACE_MAX},
                         description=_l("Wird den Angemeldeten mitgeteilt und auf der Seite gezeigt."))
    submit = SubmitField(_l("Veranstaltung absagen"))


class ConfirmForm(FlaskForm):
    """A button with CSRF protection (reinstate, remove a registration)."""
    submit = SubmitField(_l("Bestätigen"))


class ResultRowForm(Form):
    """One card from the event: an idea with its dot-votes. Empty rows are skipped."""
    title = StringField(_l("Titel"), validators=[Optional(), max_length(IDEA_TITLE_MAX), plain_text],
                        filters=[strip], render_kw={"maxlength": IDEA_TITLE_MAX, "autocomplete": "off"})
    text = TextAreaField(_l("Text"), validators=[Optional(), max_length(TEXT_MAX), plain_text], filters=[strip],
                         render_kw={"rows": 3, "maxlength": TEXT_MAX})
    sector = SelectField(_l("Handlungsfeld"), validators=[Optional()])
    dot_votes = IntegerField(_l("Klebepunkte"), default=0,
                             validators=[Optional(), NumberRange(0, 100000, _l("Bitte eine Zahl ab 0."))],
                             render_kw={"inputmode": "numeric", "min": 0})

    @property
    def is_empty(self):
        return not (self.title.data or self.text.data)


class ResultsForm(FlaskForm):
    district = SelectField(_l("Stadtteil der Ideen"), validators=[required(_l("Bitte wählen Sie einen Stadtteil."))],
                           description=_l("Gilt für alle Ideen dieses Formulars; die Verwaltung kann ihn je Idee "
                                          "ändern."))
    entries = FieldList(FormField(ResultRowForm), min_entries=RESULT_ROWS, max_entries=RESULT_ROWS_MAX)
    submit = SubmitField(_l("Ideen speichern"))

    def __init__(self, *args, rows=RESULT_ROWS, **kwargs):
        super().__init__(*args, **kwargs)
        self.district.choices = district_choices(placeholder=_l("Bitte wählen"))
        while len(self.entries) < min(rows, RESULT_ROWS_MAX):
            self.entries.append_entry()
        for row in self.entries:
            row.sector.choices = sector_choices(unknown_label=_l("noch offen"))
            if not row.sector.data:
                row.sector.data = UNKNOWN_SECTOR
