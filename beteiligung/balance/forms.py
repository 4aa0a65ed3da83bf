"""Forms of the balance staff pages (German messages).

Numbers are typed the German way ("110.000", "3,2", "-0,8") and read with the measure
sheets' `parse_number`; a number field keeps the value it read as `field.number`. The
final-energy table and the scenario paths are repeatable rows (FieldList) with a few empty
rows and a "remove" box, so rows can be added and removed without JavaScript.
"""
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (BooleanField, FieldList, Form, FormField, HiddenField, SelectField, StringField, SubmitField,
                     TextAreaField, ValidationError)
from wtforms.fields.choices import SelectChoice

from ..forms import max_length, plain_text, required, strip
from ..ideas import importing
from ..measures.forms import format_number
from ..measures.sheet import parse_number
from .models import (CODE_MAX, NAME_MAX, NOTE_MAX, QUALITY_LABELS, SECTOR_LABELS, SOURCE_MAX, STATIONARY,
                     USE_LABELS)
from .services import MAX_ENTRY_ROWS, YEARS

ENTRY_BLANK_ROWS = 5  # empty rows below the filled ones
ENTRY_MORE_ROWS = 10  # added by "Weitere leere Zeilen"
ENTRY_ROWS_MAX = MAX_ENTRY_ROWS + 50  # rows the form reads at most (filled ones are checked against MAX_ENTRY_ROWS)
PATH_BLANK_ROWS = 3
PATH_ROWS_MAX = 120
POPULATION_MAX = 100_000_000
APF_MIN, APF_MAX = Decimal(1), Decimal(10)
FACTOR_MAX = Decimal(10)  # t CO2e/MWh; larger values are almost always g/kWh typed by mistake
CHANGE_LIMIT = Decimal(100)  # percent per year
CAPACITY_MAX = Decimal("999999999999.99")  # = Numeric(14, 2)
COST_MAX = Decimal("99999999.99")  # = Numeric(10, 2)
ELECTRICITY_PATH_MAX = Decimal(10)
NOTE_TEXT_MAX = 5000
SPREAD = ""  # the select value of "spread over all sectors" (bisko_sector None)


# --- validators -----------------------------------------------------------------------------

class Number:
    """A German or English number within the bounds; the value read is kept as `field.number`.

    Empty input passes (None); combine with `required()` for a mandatory field.
    """

    def __init__(self, minimum=None, maximum=None, *, places=None, integer=False, minimum_exclusive=False,
                 too_large=None):
        self.minimum, self.maximum, self.places = minimum, maximum, places
        self.integer, self.minimum_exclusive, self.too_large = integer, minimum_exclusive, too_large

    def __call__(self, form, field):
        field.number = None
        raw = (field.data or "").strip() if isinstance(field.data, str) else field.data
        if raw in (None, ""):
            return
        number = parse_number(raw)
        if number is None:
            raise ValidationError(_("„%(value)s“ ist keine Zahl.", value=str(raw)[:40]))
        if self.integer and number != number.to_integral_value():
            raise ValidationError(_("Bitte eine ganze Zahl angeben."))
        if self.minimum is not None and (number <= self.minimum if self.minimum_exclusive else number < self.minimum):
            if self.minimum_exclusive:
                raise ValidationError(_("Die Zahl muss größer als %(min)s sein.", min=format_number(self.minimum)))
            raise ValidationError(_("Die Zahl darf nicht kleiner als %(min)s sein.", min=format_number(self.minimum)))
        if self.maximum is not None and number > self.maximum:
            raise ValidationError(self.too_large or _("Die Zahl darf nicht größer als %(max)s sein.",
                                                      max=format_number(self.maximum)))
        if self.places is not None and -number.normalize().as_tuple().exponent > self.places:
            raise ValidationError(_("Höchstens %(places)d Nachkommastellen.", places=self.places))
        field.number = int(number) if self.integer else number


class Year:
    """A year between 1990 and 2100 (the balance years); kept as `field.number` (int)."""

    def __call__(self, form, field):
        field.number = None
        raw = (field.data or "").strip()
        if not raw:
            return
        if not raw.isdigit() or int(raw) not in YEARS:
            raise ValidationError(_("Bitte eine Jahreszahl zwischen %(first)d und %(last)d angeben.",
                                    first=YEARS.start, last=YEARS.stop - 1))
        field.number = int(raw)


def _number_field(label, *validators, description=None, inputmode="decimal", **kwargs):
    render_kw = {"autocomplete": "off"}
    if inputmode:
        render_kw["inputmode"] = inputmode
    return StringField(label, validators=list(validators), description=description, render_kw=render_kw,
                       filters=[strip], **kwargs)


def _year_field(label, *validators, **kwargs):
    return StringField(label, validators=[*validators, Year()], filters=[strip],
                       render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 4}, **kwargs)


def text_value(value):
    """A one-line text as stored: inner whitespace collapsed."""
    return " ".join((value or "").split())


def long_text(value):
    """A multi-line text as stored: line endings normalised, outer space removed."""
    return (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()


class ConfirmForm(FlaskForm):
    """A POST button that carries only the CSRF token."""
    submit = SubmitField(_l("Bestätigen"))


# --- balance years --------------------------------------------------------------------------

class BalanceSettingsForm(FlaskForm):
    """Population, the two rules and the note of a balance year (editing them recomputes the balance)."""

    population = _number_field(_l("Einwohnerzahl"), required(_l("Bitte geben Sie die Einwohnerzahl an.")),
                               Number(0, POPULATION_MAX, integer=True, minimum_exclusive=True),
                               inputmode="numeric",
                               description=_l("Einwohnerinnen und Einwohner im Bilanzjahr, z. B. 110.000."))
    heat_pump_apf = _number_field(
        _l("Jahresarbeitszahl der Wärmepumpen"), required(_l("Bitte geben Sie die Jahresarbeitszahl an.")),
        Number(APF_MIN, APF_MAX, places=2), default="3,2",
        description=_l("BISKO-Standard 3,2: Wärmepumpenstrom = Umweltwärme / Jahresarbeitszahl."))
    heat_pump_power_in_electricity = BooleanField(
        _l("Wärmepumpenstrom ist im Strom enthalten"), default=True,
        description=_l("Die Netzbetreiber melden den Strom der Wärmepumpen meist im Stromverbrauch mit. Dann wird er "
                       "dort herausgerechnet, damit er nicht doppelt zählt."))
    municipal_in_ghd = BooleanField(
        _l("Kommunale Einrichtungen sind in GHD enthalten"), default=False,
        description=_l("Wenn der Versorger die kommunalen Gebäude im Sektor GHD mitmeldet, werden die Werte der "
                       "kommunalen Einrichtungen je Energieträger aus GHD herausgerechnet."))
    note = TextAreaField(_l("Anmerkung und Quellen"), validators=[plain_text, max_length(NOTE_TEXT_MAX)],
                         render_kw={"rows": 4, "maxlength": NOTE_TEXT_MAX},
                         description=_l("Woher die Daten stammen und was zu beachten ist; wird mit der Bilanz "
                                        "veröffentlicht."))
    submit = SubmitField(_l("Angaben speichern und neu berechnen"))

    def values(self):
        return {"population": self.population.number, "heat_pump_apf": self.heat_pump_apf.number,
                "heat_pump_power_in_electricity": bool(self.heat_pump_power_in_electricity.data),
                "municipal_in_ghd": bool(self.municipal_in_ghd.data), "note": long_text(self.note.data)}


class NewBalanceForm(BalanceSettingsForm):
    year = _year_field(_l("Bilanzjahr"), required(_l("Bitte geben Sie das Bilanzjahr an.")))
    submit = SubmitField(_l("Bilanzjahr anlegen"))


def balance_settings_data(balance):
    return {"population": format_number(balance.population), "heat_pump_apf": format_number(balance.heat_pump_apf),
            "heat_pump_power_in_electricity": balance.heat_pump_power_in_electricity,
            "municipal_in_ghd": balance.municipal_in_ghd, "note": balance.note}


# --- the final-energy table -----------------------------------------------------------------

ENTRY_FIELDS = ("sector", "carrier", "mwh", "quality", "note")


class EntryRow(Form):
    sector = SelectField(_l("Sektor"), choices=[], validate_choice=False)
    carrier = SelectField(_l("Energieträger"), choices=[], validate_choice=False)
    mwh = StringField(_l("Endenergie (MWh)"), render_kw={"inputmode": "decimal", "autocomplete": "off"})
    quality = SelectField(_l("Datengüte"), choices=[], validate_choice=False)
    note = StringField(_l("Quelle/Anmerkung"), render_kw={"maxlength": NOTE_MAX, "autocomplete": "off"})
    remove = BooleanField(_l("entfernen"))

    def is_blank(self):
        return all(not (self[name].data or "").strip() for name in ENTRY_FIELDS)


class EntriesForm(FlaskForm):
    """The balance's final energy as one table; checked as a whole by services.check_entries."""

    rows = FieldList(FormField(EntryRow), max_entries=ENTRY_ROWS_MAX)
    save = SubmitField(_l("Werte speichern und neu berechnen"))
    more = SubmitField(_l("Weitere leere Zeilen"))

    def offer_choices(self, carriers):
        """The select options of every row; a value no longer offered stays visible, so it can be corrected."""
        sectors = [SelectChoice("", _("– wählen –"))] + [SelectChoice(code, label)
                                                          for code, label in SECTOR_LABELS.items()]
        carrier_choices = [SelectChoice("", _("– wählen –"))] + [SelectChoice(code, name)
                                                                  for code, name in carriers.items()]
        qualities = [SelectChoice("", _("– keine Angabe –"))] + [SelectChoice(code, label)
                                                                  for code, label in QUALITY_LABELS.items()]
        for entry in self.rows:
            for name, choices in (("sector", sectors), ("carrier", carrier_choices), ("quality", qualities)):
                select = entry.form[name]
                select.choices = list(choices)
                value = select.data
                if value and value not in {choice.value for choice in choices}:
                    select.choices.append(SelectChoice(value, value))

    def add_blank_rows(self, count):
        for _n in range(max(0, min(count, ENTRY_ROWS_MAX - len(self.rows)))):
            self.rows.append_entry()

    def raw_rows(self):
        """[(row number, {sector, carrier, mwh, quality, note})] of the rows that are filled and kept."""
        rows = []
        for number, entry in enumerate(self.rows, start=1):
            row = entry.form
            if row.remove.data or row.is_blank():
                continue
            rows.append((number, {name: row[name].data for name in ENTRY_FIELDS}))
        return rows


def entries_data(entries):
    return {"rows": [{"sector": entry.sector, "carrier": entry.carrier, "mwh": format_number(entry.mwh),
                      "quality": entry.quality or "", "note": entry.note} for entry in entries]}


# --- import ---------------------------------------------------------------------------------

class UploadForm(FlaskForm):
    file = FileField(_l("Datei"), description=_l("CSV-Datei oder Excel-Datei (.xlsx), erste Zeile mit den "
                                                 "Spaltennamen – zum Beispiel die ausgefüllte Vorlage."))
    encoding = SelectField(_l("Kodierung (nur bei CSV)"), default="utf-8", validators=[required()],
                           choices=[SelectChoice(value, label) for value, label in importing.ENCODING_LABELS.items()],
                           description=_l("Wenn Umlaute falsch erscheinen oder die Vorschau eine ungültige Kodierung "
                                          "meldet, wählen Sie Windows-1252."))
    submit = SubmitField(_l("Hochladen und prüfen"))


class ConfirmImportForm(FlaskForm):
    token = HiddenField()
    submit = SubmitField(_l("Werte ersetzen"))


# --- emission factors and carriers ----------------------------------------------------------

class FactorForm(FlaskForm):
    carrier = SelectField(_l("Energieträger"), choices=[], validate_choice=False,
                          validators=[required(_l("Bitte wählen Sie den Energieträger."))])
    valid_from = _year_field(_l("Gültig ab Bilanzjahr"), required(_l("Bitte geben Sie das Jahr an.")),
                             description=_l("Der Faktor gilt für dieses und alle späteren Bilanzjahre, bis ein "
                                            "neuerer Faktor desselben Energieträgers gilt."))
    t_co2e_per_mwh = _number_field(
        _l("Emissionsfaktor (t CO₂e/MWh)"), required(_l("Bitte geben Sie den Faktor an.")),
        Number(Decimal(0), FACTOR_MAX, places=4, too_large=_l(
            "Der Faktor ist in Tonnen CO₂e je MWh anzugeben, z. B. 0,505 (= 505 g/kWh); Werte über 10 sind "
            "nicht plausibel.")),
        description=_l("Tonnen CO₂-Äquivalent je MWh Endenergie, mit Vorkette (LCA), z. B. 0,247."))
    source = StringField(_l("Quelle"), validators=[required(_l("Bitte geben Sie die Quelle an.")), plain_text,
                                                   max_length(SOURCE_MAX)],
                         filters=[strip], render_kw={"maxlength": SOURCE_MAX},
                         description=_l("Zum Beispiel „BISKO Methodenpapier (Difu, Juli 2024), Tabelle 3“ oder "
                                        "„Stadtwerke, Datenblatt Fernwärme 2022“."))
    note = StringField(_l("Anmerkung"), validators=[plain_text, max_length(NOTE_MAX)], filters=[strip],
                       render_kw={"maxlength": NOTE_MAX})
    submit = SubmitField(_l("Faktor speichern"))

    def offer_carriers(self, carriers):
        self.carrier.choices = [SelectChoice("", _("– wählen –"))] + [
            SelectChoice(code, f"{name} ({code})") for code, name in carriers.items()]


class CarrierForm(FlaskForm):
    code = StringField(_l("Kürzel"), validators=[required(_l("Bitte geben Sie das Kürzel an."))],
                       filters=[strip], render_kw={"maxlength": CODE_MAX, "autocomplete": "off"},
                       description=_l("Kleinbuchstaben a–z, Ziffern und Unterstrich, höchstens 32 Zeichen, z. B. "
                                      "„braunkohle“. Importe und die Schnittstelle nutzen es; es lässt sich später "
                                      "nicht ändern."))
    name = StringField(_l("Name"), validators=[required(_l("Bitte geben Sie den Namen an.")), plain_text,
                                               max_length(NAME_MAX)],
                       filters=[strip], render_kw={"maxlength": NAME_MAX})
    use = SelectField(_l("Verwendung"), choices=[SelectChoice(code, label) for code, label in USE_LABELS.items()],
                      default="stationaer", validators=[required()])
    note = StringField(_l("Anmerkung"), validators=[plain_text, max_length(NOTE_MAX)], filters=[strip],
                       render_kw={"maxlength": NOTE_MAX})
    submit = SubmitField(_l("Energieträger anlegen"))


class CarrierEditForm(CarrierForm):
    code = None
    submit = SubmitField(_l("Energieträger speichern"))


# --- scenario -------------------------------------------------------------------------------

class PathRow(Form):
    year = StringField(_l("Jahr"), render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 4})
    value = StringField(_l("Wert"), render_kw={"inputmode": "decimal", "autocomplete": "off"})
    remove = BooleanField(_l("entfernen"))


def _change_field(sector, label):
    return _number_field(label, Number(-CHANGE_LIMIT, CHANGE_LIMIT, places=3), inputmode=None,
                         description=_l("Prozent pro Jahr; negativ heißt weniger Endenergie, z. B. -0,8."))


class ScenarioForm(FlaskForm):
    base_year = SelectField(_l("Basisjahr"), choices=[], validate_choice=False,
                            description=_l("Die Bilanz, von der die Szenarien ausgehen."))
    target_year = _year_field(_l("Zieljahr"), required(_l("Bitte geben Sie das Zieljahr an.")), default="2035")
    note = TextAreaField(_l("Annahmen in Worten"), validators=[plain_text, max_length(NOTE_TEXT_MAX)],
                         render_kw={"rows": 5, "maxlength": NOTE_TEXT_MAX},
                         description=_l("Welche Entwicklung der Trend annimmt und woher die Annahmen stammen; wird "
                                        "mit den Szenarien veröffentlicht."))
    published = BooleanField(_l("Szenarien veröffentlichen"),
                             description=_l("Dann zeigt die öffentliche Seite den Pfad bis zum Zieljahr."))
    electricity = FieldList(FormField(PathRow), max_entries=PATH_ROWS_MAX,
                            label=_l("Pfad des Strom-Emissionsfaktors (t CO₂e/MWh)"))
    population = FieldList(FormField(PathRow), max_entries=PATH_ROWS_MAX, label=_l("Pfad der Einwohnerzahl"))
    submit = SubmitField(_l("Szenario-Annahmen speichern"))

    def change_fields(self):
        return [(sector, self[f"change_{sector}"]) for sector in SECTOR_LABELS]

    def add_blank_rows(self, count=PATH_BLANK_ROWS):
        for rows in (self.electricity, self.population):
            for _n in range(max(0, min(count, PATH_ROWS_MAX - len(rows)))):
                rows.append_entry()


for _sector, _label in SECTOR_LABELS.items():
    setattr(ScenarioForm, f"change_{_sector}", _change_field(_sector, _label))
del _sector, _label


class CompensationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[required(_l("Bitte geben Sie den Namen an.")), plain_text,
                                               max_length(NAME_MAX)],
                       filters=[strip], render_kw={"maxlength": NAME_MAX},
                       description=_l("Zum Beispiel „Wiedervernässung von Mooren“."))
    description = TextAreaField(_l("Beschreibung"), validators=[plain_text, max_length(NOTE_TEXT_MAX)],
                                render_kw={"rows": 3, "maxlength": NOTE_TEXT_MAX})
    capacity_t_per_year = _number_field(_l("Kapazität (t CO₂e pro Jahr)"),
                                        required(_l("Bitte geben Sie die Kapazität an.")),
                                        Number(Decimal(0), CAPACITY_MAX, places=2),
                                        description=_l("Wie viele Tonnen CO₂e im Jahr so höchstens ausgeglichen "
                                                       "werden können."))
    cost_eur_per_t = _number_field(_l("Kosten (Euro je t CO₂e)"), required(_l("Bitte geben Sie die Kosten an.")),
                                   Number(Decimal(0), COST_MAX, places=2))
    submit = SubmitField(_l("Kompensationsmöglichkeit speichern"))


def bisko_choices():
    return [SelectChoice(SPREAD, _("auf alle Sektoren verteilt")),
            SelectChoice(STATIONARY, _("auf die stationären Sektoren verteilt (ohne Verkehr)"))] + [
        SelectChoice(code, label) for code, label in SECTOR_LABELS.items()]
