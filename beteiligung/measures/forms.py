"""Forms of the measure staff pages.

The sheet form is built from `sheet.FIELDS`, so the form, the import, the exports and
the API describe a sheet the same way. The form itself checks nothing: every field
is read by `services.save_sheet`, which gives all problems at once with German
messages. The repeatable rows (milestones, energy per carrier, indicators) are read
here into the values `save_sheet` takes; their problems carry the row number.
"""
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, FieldList, Form, FormField, HiddenField, SelectField, SelectMultipleField,
                     StringField, SubmitField, TextAreaField)
from wtforms.fields.choices import SelectChoice

from ..ideas.services import active_sectors
from . import savings
from .models import SHORT_MAX, Measure
from .services import Indicator, Milestone
from .sheet import ENERGY_MAX, FIELDS, SheetError, SheetField, clean_text

BLANK_ROWS = 3  # empty rows offered below the filled ones (more with JavaScript)
INDICATOR_VALUE_MAX = Decimal("9999999999999.999")  # = Numeric(16, 3)
UNIT_MAX = 40

_INPUTMODE = {"year": "numeric", "int": "numeric", "percent": "numeric", "decimal": "decimal", "money": "decimal"}
_NUMBER_HINTS = {
    "money": _l("In Euro, z. B. 1.250.000,50."),
    "decimal": _l("Zahl mit Komma, z. B. 1.250,5."),
    "date": _l("Datum im Format TT.MM.JJJJ."),
}


class RequiredMark:
    """Marks a field as required (asterisk, aria) without checking it: save_sheet does that."""

    field_flags = {"required": True}

    def __call__(self, form, field):
        return None


def _nullable(name):
    column = Measure.__table__.columns.get(name)
    return column is None or column.nullable


def _description(sheet_field):
    parts = [str(text) for text in (sheet_field.help, _NUMBER_HINTS.get(sheet_field.kind)) if text]
    if sheet_field.kind in ("decimal", "money") and sheet_field.minimum is not None and sheet_field.minimum < 0:
        parts.append(str(_l("Negativ bedeutet Mehrverbrauch.")))
    return " ".join(parts)


def _form_field(sheet_field):
    """The WTForms field for one sheet field (unbound)."""
    kind = sheet_field.kind
    options = {"label": sheet_field.label, "validators": [RequiredMark()] if sheet_field.required else [],
               "description": _LazyDescription(sheet_field)}
    if kind == "text":
        return StringField(render_kw={"maxlength": sheet_field.max_length or None, "autocomplete": "off"}, **options)
    if kind == "long":
        return TextAreaField(render_kw={"rows": 4, "maxlength": sheet_field.max_length or None}, **options)
    if kind == "choice":
        choices = [SelectChoice(code.value, label) for code, label in sheet_field.choices.items()]
        if _nullable(sheet_field.name):
            choices.insert(0, SelectChoice("", _l("– nicht angegeben –")))
        return SelectField(choices=choices, validate_choice=False, **options)
    if kind == "sector":
        return SelectField(choices=[], validate_choice=False, **options)
    render_kw = {"autocomplete": "off"}
    negative = sheet_field.minimum is not None and sheet_field.minimum < 0
    if kind in _INPUTMODE and not negative:  # mobile number keyboards have no minus sign
        render_kw["inputmode"] = _INPUTMODE[kind]
    return StringField(render_kw=render_kw, **options)


class _LazyDescription:
    """The hint of a field, translated when the page is rendered (not when the module is imported)."""

    def __init__(self, sheet_field):
        self.sheet_field = sheet_field

    def __str__(self):
        return _description(self.sheet_field)

    def __html__(self):
        from markupsafe import escape

        return str(escape(str(self)))

    def __bool__(self):
        return bool(str(self))


# --- repeatable rows ---------------------------------------------------------------------------

class MilestoneRow(Form):
    title = StringField(_l("Meilenstein"), render_kw={"maxlength": SHORT_MAX, "autocomplete": "off"})
    due_on = StringField(_l("Geplant bis (TT.MM.JJJJ)"), render_kw={"autocomplete": "off"})
    done_on = StringField(_l("Erledigt am (TT.MM.JJJJ)"), render_kw={"autocomplete": "off"})


class EnergyRow(Form):
    carrier = SelectField(_l("Energieträger"), choices=[], validate_choice=False)
    mwh_per_year = StringField(_l("Eingesparte Endenergie (MWh/a)"), render_kw={"autocomplete": "off"})


class IndicatorRow(Form):
    indicator_id = HiddenField()  # keeps the monitoring values of an existing indicator
    name = StringField(_l("Indikator"), render_kw={"maxlength": SHORT_MAX, "autocomplete": "off"})
    unit = StringField(_l("Einheit"), render_kw={"maxlength": UNIT_MAX, "autocomplete": "off"})
    baseline_value = StringField(_l("Ausgangswert"), render_kw={"autocomplete": "off"})
    baseline_year = StringField(_l("Jahr des Ausgangswerts"), render_kw={"inputmode": "numeric", "autocomplete": "off"})
    target_value = StringField(_l("Zielwert"), render_kw={"autocomplete": "off"})
    target_year = StringField(_l("Zieljahr"), render_kw={"inputmode": "numeric", "autocomplete": "off"})


_DATE = {"due_on": SheetField("due_on", _l("geplant bis"), "date"),
         "done_on": SheetField("done_on", _l("erledigt am"), "date")}
_MWH = SheetField("mwh_per_year", _l("MWh/a"), "decimal", minimum=-ENERGY_MAX, maximum=ENERGY_MAX)
_INDICATOR_NUMBERS = {
    "baseline_value": SheetField("baseline_value", _l("Ausgangswert"), "decimal", minimum=-INDICATOR_VALUE_MAX,
                                 maximum=INDICATOR_VALUE_MAX),
    "baseline_year": SheetField("baseline_year", _l("Jahr des Ausgangswerts"), "year"),
    "target_value": SheetField("target_value", _l("Zielwert"), "decimal", minimum=-INDICATOR_VALUE_MAX,
                               maximum=INDICATOR_VALUE_MAX),
    "target_year": SheetField("target_year", _l("Zieljahr"), "year"),
}
VALUE_YEAR = SheetField("year", _l("Jahr"), "year")
VALUE_NUMBER = SheetField("value", _l("Wert"), "decimal", minimum=-INDICATOR_VALUE_MAX, maximum=INDICATOR_VALUE_MAX)


def _blank(row, names):
    return all(not (getattr(row, name).data or "").strip() for name in names)


def _parse(sheet_field, raw, prefix, group, errors):
    try:
        return sheet_field.parse(raw)
    except SheetError as error:
        errors.append(SheetError(f"{prefix}: {error.message}", group))
        return None


class MeasureForm(FlaskForm):
    """One measure sheet; the fields of sheet.FIELDS are added below the class."""

    milestones = FieldList(FormField(MilestoneRow), label=_l("Meilensteine"))
    energy = FieldList(FormField(EnergyRow), label=_l("Eingesparte Energie je Energieträger"))
    indicators = FieldList(FormField(IndicatorRow), label=_l("Erfolgsindikatoren"))
    submit = SubmitField(_l("Maßnahmenblatt speichern"))

    def __init__(self, *args, sector=None, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [SelectChoice("", _("Bitte wählen"))] + [SelectChoice(s.code, s.name) for s in active_sectors()]
        if sector is not None and not sector.active:
            choices.append(SelectChoice(sector.code, _("%(name)s (nicht mehr aktiv)", name=sector.name)))
        self.sector.choices = choices
        self._offer_carriers()

    def add_blank_rows(self, count=BLANK_ROWS):
        """Empty rows below the filled ones, so rows can be added without JavaScript."""
        for rows in (self.milestones, self.energy, self.indicators):
            for _n in range(count):
                rows.append_entry()
        self._offer_carriers()

    def _offer_carriers(self):
        carriers = [SelectChoice("", _("Bitte wählen"))] + [SelectChoice(code, label)
                                                             for code, label in savings.carriers().items()]
        codes = {choice.value for choice in carriers}
        for entry in self.energy:
            entry.form.carrier.choices = list(carriers)
            # A code from an import that is no longer offered stays visible, so it can be corrected.
            value = entry.form.carrier.data
            if value and value not in codes:
                entry.form.carrier.choices.append(SelectChoice(value, value))

    def raw_sheet(self):
        """The raw values of the sheet fields, as save_sheet reads them."""
        return {sheet_field.name: self[sheet_field.name].data for sheet_field in FIELDS}

    def milestone_rows(self, errors):
        """[Milestone] from the filled rows; problems go to `errors` (group "milestones")."""
        rows = []
        for number, entry in enumerate(self._filled(self.milestones, ("title", "due_on", "done_on")), start=1):
            prefix = _("Meilenstein %(n)d", n=number)
            dates = {name: _parse(sheet_field, entry.form[name].data, prefix, "milestones", errors)
                     for name, sheet_field in _DATE.items()}
            rows.append(Milestone(title=entry.form.title.data or "", **dates))
        return rows

    def energy_rows(self, errors):
        """[(carrier, Decimal)] from the filled rows (negative: more of that carrier)."""
        rows = []
        for number, entry in enumerate(self._filled(self.energy, ("carrier", "mwh_per_year")), start=1):
            prefix = _("Energieträger, Zeile %(n)d", n=number)
            carrier = (entry.form.carrier.data or "").strip()
            if not carrier:
                errors.append(SheetError(_("%(prefix)s: Bitte wählen Sie den Energieträger.", prefix=prefix),
                                         "energy"))
                continue
            raw = entry.form.mwh_per_year.data
            if not (raw or "").strip():
                errors.append(SheetError(_("%(prefix)s: Bitte geben Sie die Energiemenge in MWh/a an.",
                                           prefix=prefix), "energy"))
                continue
            mwh = _parse(_MWH, raw, prefix, "energy", errors)
            if mwh is not None:
                rows.append((carrier, mwh.quantize(Decimal("0.01"))))
        return rows

    def indicator_rows(self, measure, errors):
        """[Indicator] from the filled rows; an existing indicator keeps its monitoring values.

        An indicator with monitoring values is not dropped by emptying its row: the values
        are deleted on the monitoring page first, so no yearly value is lost by accident.
        """
        existing = {str(indicator.id): indicator for indicator in (measure.indicators if measure else [])}
        names = ("name", "unit", "baseline_value", "baseline_year", "target_value", "target_year")
        rows, kept = [], set()
        number = 0
        for entry in self.indicators:
            old = existing.get((entry.form.indicator_id.data or "").strip())
            if _blank(entry.form, names):
                if old is not None and old.values:
                    errors.append(SheetError(_(
                        "Der Indikator „%(name)s“ hat Ist-Werte aus dem Monitoring (%(years)s). Löschen Sie "
                        "zuerst diese Werte auf der Monitoring-Seite, wenn der Indikator entfallen soll.",
                        name=old.name, years=", ".join(str(value.year) for value in old.values)), "indicators"))
                continue
            number += 1
            prefix = _("Indikator %(n)d", n=number)
            numbers = {name: _parse(sheet_field, entry.form[name].data, prefix, "indicators", errors)
                       for name, sheet_field in _INDICATOR_NUMBERS.items()}
            values = []
            if old is not None and old.id not in kept:
                kept.add(old.id)
                values = [(value.year, value.value, value.note) for value in old.values]
            rows.append(Indicator(name=entry.form.name.data or "", unit=entry.form.unit.data or "",
                                  values=values, **numbers))
        return rows

    @staticmethod
    def _filled(rows, names):
        return [entry for entry in rows if not _blank(entry.form, names)]


for _sheet_field in FIELDS:
    setattr(MeasureForm, _sheet_field.name, _form_field(_sheet_field))
del _sheet_field


def format_number(value):
    """A number as the form shows it: German, and read back to the same value by sheet.parse_number.

    "1.250.000,5" keeps its grouping; a single comma is always read as the decimal comma.
    """
    if value is None:
        return ""
    number = Decimal(value)
    if number == number.to_integral_value():
        whole, fraction = f"{abs(number.to_integral_value()):f}", ""
    else:
        whole, _dot, fraction = f"{abs(number).normalize():f}".partition(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    grouped = ".".join([whole] + groups)
    sign = "-" if number < 0 else ""
    return sign + grouped + ("," + fraction if fraction else "")


def format_date(value):
    return value.strftime("%d.%m.%Y") if isinstance(value, date) else ""


def sheet_data(measure):
    """The form values of a stored sheet."""
    data = {}
    for sheet_field in FIELDS:
        value = getattr(measure, sheet_field.name)
        if sheet_field.kind == "sector":
            value = value.code if value is not None else ""
        elif sheet_field.kind == "date":
            value = format_date(value)
        elif sheet_field.kind in ("year", "int", "percent"):
            value = "" if value is None else str(value)
        elif sheet_field.kind in ("decimal", "money"):
            value = format_number(value)
        elif value is None:
            value = ""
        data[sheet_field.name] = value
    data["milestones"] = [{"title": m.title, "due_on": format_date(m.due_on), "done_on": format_date(m.done_on)}
                          for m in measure.milestones]
    data["energy"] = [{"carrier": e.carrier, "mwh_per_year": format_number(e.mwh_per_year)}
                      for e in measure.energy_savings]
    data["indicators"] = [{"indicator_id": str(i.id), "name": i.name, "unit": i.unit,
                           "baseline_value": format_number(i.baseline_value),
                           "baseline_year": "" if i.baseline_year is None else str(i.baseline_year),
                           "target_value": format_number(i.target_value),
                           "target_year": "" if i.target_year is None else str(i.target_year)}
                          for i in measure.indicators]
    return data


NEW_SHEET = {"status": "planned", "savings_method": "direct", "ramp_up_years": "1", "progress": "0"}


# --- monitoring ----------------------------------------------------------------------------------

class ValueRow(Form):
    year = StringField(_l("Jahr"), render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 4})
    value = StringField(_l("Ist-Wert"), render_kw={"autocomplete": "off"})
    note = StringField(_l("Quelle oder Bemerkung"), render_kw={"maxlength": SHORT_MAX, "autocomplete": "off"})
    delete = BooleanField(_l("löschen"))


class MonitoringForm(FlaskForm):
    """The yearly actual values of one indicator (one form per indicator on the page, with a prefix)."""

    class Meta:
        csrf = False  # the page's one csrf_token field is checked for every POST (access.enforce_access)

    rows = FieldList(FormField(ValueRow))
    submit = SubmitField(_l("Ist-Werte speichern"))

    def values(self, errors):
        """{year: (Decimal, note)} from the rows; deleted and empty rows are left out."""
        found = {}
        for number, entry in enumerate(self.rows, start=1):
            row = entry.form
            if row.delete.data or _blank(row, ("year", "value", "note")):
                continue
            prefix = _("Zeile %(n)d", n=number)
            if not (row.year.data or "").strip() or not (row.value.data or "").strip():
                errors.append(SheetError(_("%(prefix)s: Bitte geben Sie Jahr und Wert an (oder „löschen“ "
                                           "ankreuzen).", prefix=prefix), row.year.id if not (row.year.data or "")
                                         .strip() else row.value.id))
                continue
            year = _parse_at(VALUE_YEAR, row.year, prefix, errors)
            value = _parse_at(VALUE_NUMBER, row.value, prefix, errors)
            note = clean_text(row.note.data).replace("\n", " ")
            if len(note) > SHORT_MAX:
                errors.append(SheetError(_("%(prefix)s: Die Bemerkung darf höchstens %(max)d Zeichen lang sein.",
                                           prefix=prefix, max=SHORT_MAX), row.note.id))
            if year is None or value is None:
                continue
            if year in found:
                errors.append(SheetError(_("%(prefix)s: Für %(year)d ist schon ein Wert eingetragen; je Jahr gibt "
                                           "es einen Ist-Wert.", prefix=prefix, year=year), row.year.id))
                continue
            found[year] = (value, note)
        return found


def _parse_at(sheet_field, form_field, prefix, errors):
    """Parse one input; the error names the input's id, so the summary can link to it."""
    try:
        return sheet_field.parse(form_field.data)
    except SheetError as error:
        errors.append(SheetError(f"{prefix}: {error.message}", form_field.id))
        return None


def monitoring_rows(indicator, blank=1):
    """The rows of the monitoring form for the stored values, plus empty ones for new years."""
    rows = [{"year": str(value.year), "value": format_number(value.value), "note": value.note}
            for value in indicator.values]
    return rows + [{}] * blank


# --- linking ideas -------------------------------------------------------------------------------

class LinkIdeasForm(FlaskForm):
    ids = SelectMultipleField(_l("Ausgewählte Ideen"), coerce=str, validate_choice=False)
    reason = TextAreaField(_l("Öffentliche Begründung der Zuordnung"), validators=[RequiredMark()],
                           render_kw={"rows": 4, "maxlength": 2000},
                           description=_l("Erscheint auf der Seite der Maßnahme und in der Nachricht an die "
                                          "Autorinnen und Autoren der Ideen."))
    submit = SubmitField(_l("Ausgewählte Ideen zuordnen"))


class ConfirmDeleteForm(FlaskForm):
    """The second step of deleting (the page posts confirmed=1)."""

    submit = SubmitField(_l("Maßnahme endgültig löschen"))
