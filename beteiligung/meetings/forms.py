"""Forms of the bodies' pages. They check form and length; the rules (deadlines, recurrence
rules, uploads, who may do what) are in `services`, whose errors the routes show at the field."""
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (BooleanField, DateField, HiddenField, IntegerField, RadioField, SelectField, StringField,
                     SubmitField, TextAreaField, TimeField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional

from ..forms import email_address, max_length, plain_text, required, strip
from .models import BODY_KIND_LABELS, NAME_MAX, PLACE_MAX, TITLE_MAX, URL_MAX, AttendanceStatus
from .services import DESCRIPTION_MAX, DURATION_MAX, MINUTES_TEXT_MAX, ROLE_MAX, to_utc

DATE_MESSAGE = _l("Bitte geben Sie ein gültiges Datum an.")
TIME_MESSAGE = _l("Bitte geben Sie eine Uhrzeit wie 17:00 an.")
NUMBER_MESSAGE = _l("Bitte geben Sie eine ganze Zahl an.")


def _date(label, *, optional=False, description=None):
    validators = [Optional()] if optional else [required(DATE_MESSAGE)]
    return DateField(label, validators=validators, description=description)


def _time(label):
    return TimeField(label, format=["%H:%M", "%H:%M:%S"], validators=[required(TIME_MESSAGE)])


def _text(label, maximum, *, optional=True, description=None, rows=None):
    validators = ([Optional()] if optional else [required()]) + [max_length(maximum), plain_text]
    render_kw = {"maxlength": maximum}
    if rows:
        render_kw["rows"] = rows
        return TextAreaField(label, validators=validators, filters=[strip], render_kw=render_kw,
                             description=description)
    return StringField(label, validators=validators, filters=[strip], render_kw=render_kw, description=description)


def _number(label, low, high, *, default=None, description=None):
    return IntegerField(label, default=default, description=description,
                        validators=[required(NUMBER_MESSAGE),
                                    NumberRange(low, high, _l("Bitte eine Zahl von %(min)s bis %(max)s."))],
                        render_kw={"inputmode": "numeric", "min": low, "max": high})


class ActionButtonForm(FlaskForm):
    """A button that only needs the CSRF token (publish, restore, accept, delete)."""
    submit = SubmitField(_l("Ausführen"))


# --- bodies and members ---------------------------------------------------------------------------

class BodyForm(FlaskForm):
    name = _text(_l("Name"), NAME_MAX, optional=False)
    slug = StringField(_l("Kurzadresse"), validators=[Optional(), max_length(64)], filters=[strip],
                       render_kw={"maxlength": 64, "autocomplete": "off", "spellcheck": "false"},
                       description=_l("Für die Adresse der Seite, z. B. „arbeitskreis-klimaschutz“. Leer: aus dem "
                                      "Namen gebildet."))
    kind = SelectField(_l("Art"), choices=[SelectChoice(kind.value, label) for kind, label in BODY_KIND_LABELS.items()])
    description = _text(_l("Beschreibung"), DESCRIPTION_MAX, rows=5,
                        description=_l("Aufgabe und Arbeitsweise des Gremiums; Absätze, **fett**, *kursiv*, Listen "
                                       "und Links sind möglich."))
    public = BooleanField(_l("Öffentlich: Termine, veröffentlichte Tagesordnungen und Protokolle sind für alle "
                             "sichtbar"), default=True)
    agenda_lead_days = _number(_l("Tagesordnung verschicken (Tage vor der Sitzung)"), 0, 60, default=7)
    proposal_deadline_days = _number(_l("Vorschläge möglich bis (Tage vor der Sitzung)"), 0, 90, default=10)
    submit = SubmitField(_l("Speichern"))


class MemberForm(FlaskForm):
    name = _text(_l("Name"), NAME_MAX, optional=False)
    organisation = _text(_l("Organisation"), TITLE_MAX)
    role = _text(_l("Rolle im Gremium"), ROLE_MAX, description=_l("Zum Beispiel Vorsitz, Mitglied, Stellvertretung."))
    from_date = _date(_l("Mitglied seit"))
    to_date = _date(_l("Mitglied bis"), optional=True,
                    description=_l("Leer lassen, solange die Person Mitglied ist. Ein Datum beendet die "
                                   "Mitgliedschaft nach diesem Tag."))
    email = StringField(_l("Konto verknüpfen (E-Mail-Adresse)"), validators=[Optional(), email_address()],
                        filters=[strip], render_kw={"autocomplete": "off", "maxlength": 254},
                        description=_l("Freiwillig. Mit einem Konto erhält die Person Tagesordnung, Erinnerungen und "
                                       "den Kalender der Mitglieder und kann Punkte vorschlagen."))
    unlink = BooleanField(_l("Verknüpfung mit dem Konto lösen"))
    submit = SubmitField(_l("Speichern"))


# --- series and dates -----------------------------------------------------------------------------



def _choices(pairs):
    return [SelectChoice(value, label) for value, label in pairs]


WEEKDAY_CHOICES = _choices([("MO", _l("Montag")), ("TU", _l("Dienstag")), ("WE", _l("Mittwoch")),
                            ("TH", _l("Donnerstag")), ("FR", _l("Freitag")), ("SA", _l("Samstag")),
                            ("SU", _l("Sonntag"))])
ORDINAL_CHOICES = _choices([("1", _l("1.")), ("2", _l("2.")), ("3", _l("3.")), ("4", _l("4.")),
                            ("-1", _l("letzten"))])


def _web_address(label):
    return StringField(label, validators=[Optional(), max_length(URL_MAX)], filters=[strip],
                       render_kw={"maxlength": URL_MAX, "inputmode": "url", "autocomplete": "off"},
                       description=_l("Beginnt mit https://; nur Mitglieder und Verwaltung sehen ihn."))


class SeriesForm(FlaskForm):
    title = _text(_l("Titel der Termine"), TITLE_MAX, optional=False)
    mode = RadioField(_l("Wiederholung"), choices=_choices([("builder", _l("einfach: monatlich oder wöchentlich")),
                                                            ("expert", _l("als Regel nach RFC 5545 (für Fachleute)"))]),
                      default="builder")
    frequency = SelectField(_l("Rhythmus"), choices=_choices([("MONTHLY", _l("monatlich")),
                                                              ("WEEKLY", _l("wöchentlich"))]), default="MONTHLY")
    ordinal = SelectField(_l("Am (bei monatlich)"), choices=ORDINAL_CHOICES, default="2")
    weekday = SelectField(_l("Wochentag"), choices=WEEKDAY_CHOICES, default="TU")
    interval = SelectField(_l("Alle (bei wöchentlich)"),
                           choices=_choices([("1", _l("jede Woche")), ("2", _l("alle 2 Wochen")),
                                             ("3", _l("alle 3 Wochen")), ("4", _l("alle 4 Wochen"))]), default="1")
    rule = StringField(_l("Regel (RRULE)"), validators=[Optional(), max_length(300)], filters=[strip],
                       render_kw={"maxlength": 300, "autocomplete": "off", "spellcheck": "false"},
                       description=_l("Zum Beispiel FREQ=MONTHLY;BYDAY=2TU für jeden zweiten Dienstag im Monat. "
                                      "Erlaubt: FREQ=DAILY, WEEKLY, MONTHLY, YEARLY; die Uhrzeit kommt aus dem "
                                      "Beginn."))
    start_date = _date(_l("Erster möglicher Termin ab"),
                       description=_l("Der erste Termin ist der erste Tag ab diesem Datum, der zur Regel passt."))
    start_time = _time(_l("Beginn (Uhrzeit)"))
    duration_minutes = _number(_l("Dauer in Minuten"), 5, 1440, default=120)
    place = _text(_l("Ort"), PLACE_MAX)
    online_url = _web_address(_l("Online-Link"))
    until = _date(_l("Termine anlegen bis"), description=_l("Höchstens drei Jahre im Voraus."))
    preview = SubmitField(_l("Vorschau der Termine"))
    submit = SubmitField(_l("Speichern und Termine anlegen"))

    def first_start_local(self):
        return datetime.combine(self.start_date.data, self.start_time.data)


class ExpandForm(FlaskForm):
    until = _date(_l("Termine anlegen bis"))
    submit = SubmitField(_l("Termine anlegen"))


class MeetingForm(FlaskForm):
    """A single date (also used for moving: date, start and end)."""
    title = _text(_l("Titel"), TITLE_MAX, optional=False)
    date = _date(_l("Datum"))
    start_time = _time(_l("Beginn"))
    end_time = _time(_l("Ende"))
    place = _text(_l("Ort"), PLACE_MAX)
    online_url = _web_address(_l("Online-Link"))
    submit = SubmitField(_l("Termin anlegen"))

    def times(self):
        return (to_utc(datetime.combine(self.date.data, self.start_time.data)),
                to_utc(datetime.combine(self.date.data, self.end_time.data)))


class MeetingDetailsForm(FlaskForm):
    title = _text(_l("Titel"), TITLE_MAX, optional=False)
    place = _text(_l("Ort"), PLACE_MAX)
    online_url = _web_address(_l("Online-Link"))
    submit = SubmitField(_l("Angaben speichern"))


class MoveForm(FlaskForm):
    date = _date(_l("Neues Datum"))
    start_time = _time(_l("Neuer Beginn"))
    end_time = _time(_l("Neues Ende"))
    submit = SubmitField(_l("Termin verschieben"))

    def times(self):
        return (to_utc(datetime.combine(self.date.data, self.start_time.data)),
                to_utc(datetime.combine(self.date.data, self.end_time.data)))


class CancelForm(FlaskForm):
    reason = _text(_l("Grund der Absage"), PLACE_MAX, optional=False,
                   description=_l("Steht auf der Seite der Sitzung und in den Kalendern."))
    submit = SubmitField(_l("Sitzung absagen"))


# --- agenda ---------------------------------------------------------------------------------------

class ProposalForm(FlaskForm):
    title = _text(_l("Titel des Punktes"), TITLE_MAX, optional=False)
    description = _text(_l("Worum geht es?"), DESCRIPTION_MAX, rows=4)
    duration_minutes = _number(_l("Gewünschte Dauer in Minuten"), 5, 180, default=15)
    submit = SubmitField(_l("Punkt vorschlagen"))


class ItemForm(FlaskForm):
    title = _text(_l("Titel"), TITLE_MAX, optional=False)
    presenter = _text(_l("Vortragende Person"), NAME_MAX)
    duration_minutes = _number(_l("Dauer in Minuten"), 0, DURATION_MAX, default=15)
    description = _text(_l("Beschreibung"), DESCRIPTION_MAX, rows=4)
    submit = SubmitField(_l("Speichern"))


class RejectForm(FlaskForm):
    reason = _text(_l("Grund"), PLACE_MAX, optional=False,
                   description=_l("Die vorschlagende Person sieht den Grund."))
    submit = SubmitField(_l("Nicht aufnehmen"))


class LinksForm(FlaskForm):
    ideas = StringField(_l("Ideen (Nummern)"), validators=[Optional(), max_length(500)], filters=[strip],
                        render_kw={"maxlength": 500, "autocomplete": "off"},
                        description=_l("Durch Kommas getrennt, z. B. 12, 40."))
    measures = StringField(_l("Maßnahmen (Nummern)"), validators=[Optional(), max_length(500)], filters=[strip],
                           render_kw={"maxlength": 500, "autocomplete": "off"},
                           description=_l("Durch Kommas getrennt, z. B. M-2.3, M-4.1. Beschlüsse zu diesem Punkt "
                                          "erscheinen nach der Veröffentlichung des Protokolls bei den Maßnahmen."))
    submit = SubmitField(_l("Verknüpfungen speichern"))


class MaterialForm(FlaskForm):
    title = _text(_l("Titel"), TITLE_MAX, description=_l("Leer: der Dateiname oder die Webadresse."))
    url = StringField(_l("Webadresse"), validators=[Optional(), max_length(URL_MAX)], filters=[strip],
                      render_kw={"maxlength": URL_MAX, "inputmode": "url", "autocomplete": "off"},
                      description=_l("Ein Link auf ein Dokument, oder:"))
    file = FileField(_l("Datei"), description=_l("PDF, ODT, DOCX, XLSX, PNG oder JPEG, höchstens 10 MB."),
                     render_kw={"accept": ".pdf,.odt,.docx,.xlsx,.png,.jpg,.jpeg"})
    submit = SubmitField(_l("Material hinzufügen"))

    def has_file(self):
        return self.file.data is not None and bool(getattr(self.file.data, "filename", ""))

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if self.url.data and self.has_file():
            self.url.errors = list(self.url.errors) + [
                _l("Bitte entweder eine Webadresse oder eine Datei angeben, nicht beides.")]
            return False
        if not self.url.data and not self.has_file():
            self.url.errors = list(self.url.errors) + [
                _l("Bitte geben Sie eine Webadresse an oder wählen Sie eine Datei aus.")]
            return False
        return valid


class OrderForm(FlaskForm):
    """The position fields of the agenda table (read from the request) and the up/down buttons."""
    move = HiddenField()
    submit = SubmitField(_l("Reihenfolge speichern"))


# --- minutes --------------------------------------------------------------------------------------

class ActionForm(FlaskForm):
    title = _text(_l("Aufgabe"), PLACE_MAX, optional=False)
    item = SelectField(_l("Zu Tagesordnungspunkt"), choices=[], validate_choice=False)
    member = SelectField(_l("Zuständig (Mitglied)"), choices=[], validate_choice=False)
    assignee = _text(_l("oder zuständig (Name)"), NAME_MAX,
                     description=_l("Für Personen, die nicht Mitglied sind, z. B. „Stadtwerke, Frau Roth“."))
    due_on = _date(_l("Fällig am"), optional=True)
    submit = SubmitField(_l("Aufgabe hinzufügen"))


ATTENDANCE_CHOICES = [SelectChoice(status.value, status.label) for status in AttendanceStatus]


class MinutesFormBase(FlaskForm):
    submit = SubmitField(_l("Protokoll speichern"))


def minutes_form(items, members, **kwargs):
    """A form with discussion and decision per accepted item and a radio group per active member."""

    class MinutesForm(MinutesFormBase):
        pass

    for item in items:
        setattr(MinutesForm, f"discussion_{item.id}",
                _text(_l("Diskussion"), MINUTES_TEXT_MAX, rows=4))
        setattr(MinutesForm, f"decision_{item.id}",
                _text(_l("Beschluss"), MINUTES_TEXT_MAX, rows=2,
                      description=_l("Leer: kein Beschluss. Beschlüsse zu verknüpften Maßnahmen erscheinen dort.")))
    for member in members:
        setattr(MinutesForm, f"attendance_{member.id}",
                RadioField(member.name, choices=ATTENDANCE_CHOICES, validators=[Optional()]))
    return MinutesForm(**kwargs)
