"""Measure sheets: creating and editing them, and linking ideas to them with notifications.

`save_sheet` is the one way a sheet is written (form, import, triage): it validates
every field through `sheet.FIELDS`, keeps numbers and titles unique, derives the
duration class and the computed savings, and records the change in the audit log.
"""
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from ..audit.services import record
from ..extensions import db
from ..ideas import services as idea_services
from ..ideas.models import TEXT_MAX, Idea, Status
from ..ideas.services import IdeaError, clean_text
from ..notifications.services import notify
from . import savings
from .models import (REASON_MAX, SHORT_MAX, Duration, IdeaMeasure, IndicatorValue, Measure,
                     MeasureEnergySaving, MeasureIndicator, MeasureMilestone, MeasureStatus, SavingsMethod)
from .sheet import FIELDS, LONG_MAX, SheetError, field_by_name

DESCRIPTION_MAX = LONG_MAX
_NUMBER = re.compile(r"^M-(\d+)\.(\d+)$")
MAX_MILESTONES = 30
MAX_INDICATORS = 12
MAX_VALUES = 60  # yearly values per indicator


def next_number(sector):
    """The next free number in a field of action: M-<position>.<serial>, e.g. M-4.3."""
    prefix = f"M-{sector.position}."
    numbers = db.session.scalars(select(Measure.number).where(Measure.number.like(prefix + "%"))).all()
    serials = [int(match.group(2)) for match in map(_NUMBER.match, numbers) if match]
    return f"{prefix}{max(serials, default=0) + 1}"


def create_measure(actor, *, title, sector, description=""):
    """A new sheet with the first fields (the triage workspace starts measures this way)."""
    title, description = clean_text(title), clean_text(description)
    if not title:
        raise IdeaError(_("Bitte geben Sie einen Titel für die Maßnahme an."), "title")
    if sector is None:
        raise IdeaError(_("Bitte wählen Sie ein Handlungsfeld."), "sector")
    try:
        return save_sheet(None, actor, {"title": title, "sector": sector, "description": description})
    except SheetErrors as errors:
        first = errors.errors[0]
        raise IdeaError(first.message, first.field) from None


# --- the sheet ---------------------------------------------------------------------------------

class SheetErrors(Exception):
    """All problems of one sheet at once: [SheetError]."""

    def __init__(self, errors):
        super().__init__("; ".join(error.message for error in errors))
        self.errors = errors


@dataclass
class Milestone:
    title: str
    due_on: date = None
    done_on: date = None


@dataclass
class Indicator:
    name: str
    unit: str = ""
    baseline_value: Decimal = None
    baseline_year: int = None
    target_value: Decimal = None
    target_year: int = None
    values: list = field(default_factory=list)  # [(year, Decimal value, note)]


def parse_sheet(raw, *, partial=False):
    """Stored values for the raw values of the fields given: (values, [SheetError]).

    With partial=False every field of the sheet is read (a missing one counts as empty);
    with partial=True only the keys present in `raw` are.
    """
    values, errors = {}, []
    for sheet_field in FIELDS:
        if partial and sheet_field.name not in raw:
            continue
        raw_value = raw.get(sheet_field.name)
        if sheet_field.kind == "sector" and raw_value is not None and not isinstance(raw_value, (str, int)):
            values["sector"] = raw_value  # already a Sector
            continue
        try:
            values[sheet_field.name] = sheet_field.parse(raw_value)
        except SheetError as error:
            errors.append(error)
    number = values.get("number")
    if number and not _NUMBER.match(number):
        errors.append(SheetError(_("Die Nummer „%(number)s“ hat nicht die Form M-<Handlungsfeld>.<laufende Nummer>, "
                                   "z. B. M-2.3.", number=number[:40]), "number"))
    start, end = values.get("start_year"), values.get("end_year")
    if start and end and end < start:
        errors.append(SheetError(_("Das Ende (%(end)d) liegt vor dem Beginn (%(start)d).", end=end, start=start),
                                 "end_year"))
    return values, errors


def save_sheet(measure, actor, raw, *, milestones=None, energy=None, indicators=None, partial=False):
    """Create (measure=None) or update a sheet from raw field values; raises SheetErrors.

    `milestones` ([Milestone]), `energy` ([(carrier, mwh)]) and `indicators` ([Indicator])
    replace the sheet's rows when given and stay as they are when None.
    """
    values, errors = parse_sheet(raw, partial=partial)
    errors += _check_parts(milestones, energy, indicators)
    creating = measure is None
    sector = values.get("sector") or (measure.sector if measure is not None else None)
    if creating and sector is None and not any(e.field == "sector" for e in errors):
        errors.append(SheetError(_("„%(label)s“ fehlt.", label=field_by_name("sector").label), "sector"))
    title = values.get("title")
    if title:
        query = select(Measure).where(func.lower(Measure.title) == title.lower())
        if not creating:
            query = query.where(Measure.id != measure.id)
        same = db.session.scalar(query)
        if same is not None:  # also catches a double submit
            errors.append(SheetError(_("Eine Maßnahme mit diesem Titel gibt es bereits: %(number)s.",
                                       number=same.number), "title"))
    number = values.get("number")
    if number:
        query = select(Measure).where(Measure.number == number)
        if not creating:
            query = query.where(Measure.id != measure.id)
        same = db.session.scalar(query)
        if same is not None:
            errors.append(SheetError(_("Die Nummer %(number)s hat schon „%(title)s“.", number=number,
                                       title=same.title), "number"))
    if errors:
        raise SheetErrors(errors)

    old = {} if creating else _snapshot(measure)
    if creating:
        measure = Measure(created_by_id=getattr(actor, "id", None), idea_count=0,
                          number=number or next_number(sector))
        db.session.add(measure)
    for name, value in values.items():
        if name == "number" and not value:
            continue
        if name == "ramp_up_years" and value is None:
            value = 1
        if name in ("savings_method", "status") and value is None:
            value = (SavingsMethod.DIRECT if name == "savings_method" else MeasureStatus.PLANNED).value
        if name == "progress" and value is None:
            value = 0
        setattr(measure, name, value)
    if measure.ramp_up_years is None:
        measure.ramp_up_years = 1
    if measure.status == MeasureStatus.DONE.value and "progress" not in raw:
        measure.progress = 100
    if measure.start_year and measure.end_year:
        measure.duration = Duration.for_years(measure.end_year - measure.start_year + 1).value
    if milestones is not None:
        measure.milestones = [MeasureMilestone(position=i, title=m.title, due_on=m.due_on, done_on=m.done_on)
                              for i, m in enumerate(milestones)]
    if energy is not None:
        if measure.energy_savings:
            measure.energy_savings = []
            db.session.flush()  # the old rows go first: a carrier may come back (unique per measure)
        measure.energy_savings = [MeasureEnergySaving(carrier=carrier, mwh_per_year=mwh) for carrier, mwh in energy]
    if indicators is not None:
        measure.indicators = [MeasureIndicator(
            position=i, name=ind.name, unit=ind.unit, baseline_value=ind.baseline_value,
            baseline_year=ind.baseline_year, target_value=ind.target_value, target_year=ind.target_year,
            values=[IndicatorValue(year=year, value=value, note=note) for year, value, note in ind.values])
            for i, ind in enumerate(indicators)]
    update_savings(measure)
    db.session.flush()
    new = _snapshot(measure)
    if creating:
        record("measure.created", measure, actor=actor, new={"number": measure.number, "title": measure.title,
                                                             "sector": measure.sector.code})
    else:
        changed = {key for key in new if old.get(key) != new[key]}
        if changed:
            record("measure.updated", measure, actor=actor, old={k: old.get(k) for k in sorted(changed)},
                   new={k: new[k] for k in sorted(changed)})
    return measure


def update_savings(measure):
    """With the carrier method: energy from the carrier rows, emissions from the balance's factors (or none)."""
    if measure.savings_method != SavingsMethod.CARRIERS.value:
        measure.savings_factor_year = None
        return None
    result = savings.compute([(row.carrier, row.mwh_per_year) for row in measure.energy_savings])
    measure.savings_mwh_per_year = result.mwh_per_year.quantize(Decimal("0.01"))
    measure.savings_t_co2e_per_year = result.t_co2e_per_year
    measure.savings_factor_year = result.factor_year if result.t_co2e_per_year is not None else None
    return result


def savings_explanation(measure):
    """One German sentence on how the sheet's savings were obtained (always shown with the numbers)."""
    if measure.savings_method != SavingsMethod.CARRIERS.value:
        if measure.savings_t_co2e_per_year is None and measure.savings_mwh_per_year is None:
            return _("Die Einsparung ist noch nicht abgeschätzt.")
        return _("Die Einsparung wurde direkt angegeben; die Grundlage steht unter „Grundlage der Abschätzung“.")
    if not measure.energy_savings:
        return _("Die Einsparung wird aus der eingesparten Energie je Energieträger berechnet; "
                 "es sind noch keine Energieträger angegeben.")
    if measure.savings_t_co2e_per_year is not None:
        return _("Berechnet aus der eingesparten Endenergie je Energieträger mit den Emissionsfaktoren "
                 "des Bilanzjahres %(year)s.", year=measure.savings_factor_year)
    result = savings.compute([(row.carrier, row.mwh_per_year) for row in measure.energy_savings])
    if result.factor_year is None:
        return _("Die Endenergie je Energieträger ist erfasst; die THG-Einsparung wird berechnet, sobald die "
                 "Emissionsfaktoren der Energie- und THG-Bilanz vorliegen.")
    return _("Für das Bilanzjahr %(year)s fehlen Emissionsfaktoren für: %(carriers)s.", year=result.factor_year,
             carriers=", ".join(result.missing))


def _snapshot(measure):
    data = {}
    for sheet_field in FIELDS:
        value = getattr(measure, sheet_field.name)
        if sheet_field.kind == "sector":
            value = value.code if value is not None else None
        elif isinstance(value, (Decimal, date)):
            value = str(value)
        data[sheet_field.name] = value
    data["milestones"] = [[m.title, str(m.due_on), str(m.done_on)] for m in measure.milestones]
    data["energy"] = [[e.carrier, str(e.mwh_per_year)] for e in measure.energy_savings]
    data["indicators"] = [[i.name, i.unit, str(i.baseline_value), i.baseline_year, str(i.target_value),
                           i.target_year, [[v.year, str(v.value)] for v in i.values]] for i in measure.indicators]
    return data


def _check_parts(milestones, energy, indicators):
    errors = []
    if milestones is not None:
        if len(milestones) > MAX_MILESTONES:
            errors.append(SheetError(_("Höchstens %(max)d Meilensteine.", max=MAX_MILESTONES), "milestones"))
        for number, milestone in enumerate(milestones, start=1):
            title = clean_text(milestone.title or "")
            if not title:
                errors.append(SheetError(_("Meilenstein %(n)d hat keinen Titel.", n=number), "milestones"))
            elif len(title) > SHORT_MAX:
                errors.append(SheetError(_("Meilenstein %(n)d: der Titel darf höchstens %(max)d Zeichen lang sein.",
                                           n=number, max=SHORT_MAX), "milestones"))
            milestone.title = title
    if energy is not None:
        known, seen = savings.carriers(), set()
        for carrier, mwh in energy:
            if carrier not in known:
                errors.append(SheetError(_("Den Energieträger „%(carrier)s“ gibt es nicht. Möglich sind: %(codes)s.",
                                           carrier=str(carrier)[:40], codes=", ".join(known)), "energy"))
            elif carrier in seen:
                errors.append(SheetError(_("Der Energieträger „%(carrier)s“ steht doppelt.", carrier=carrier),
                                         "energy"))
            seen.add(carrier)
            if not isinstance(mwh, Decimal) or abs(mwh) > Decimal("999999999999"):
                errors.append(SheetError(_("Die Energiemenge für „%(carrier)s“ ist keine gültige Zahl.",
                                           carrier=str(carrier)[:40]), "energy"))
    if indicators is not None:
        if len(indicators) > MAX_INDICATORS:
            errors.append(SheetError(_("Höchstens %(max)d Indikatoren.", max=MAX_INDICATORS), "indicators"))
        for number, indicator in enumerate(indicators, start=1):
            indicator.name, indicator.unit = clean_text(indicator.name or ""), clean_text(indicator.unit or "")
            if not indicator.name:
                errors.append(SheetError(_("Indikator %(n)d hat keinen Namen.", n=number), "indicators"))
            elif len(indicator.name) > SHORT_MAX or len(indicator.unit) > 40:
                errors.append(SheetError(_("Indikator %(n)d: Name oder Einheit ist zu lang.", n=number),
                                         "indicators"))
            if "|" in indicator.name + indicator.unit:  # the separator of the export's indicator cells
                errors.append(SheetError(_("Indikator %(n)d: Name und Einheit dürfen kein „|“ enthalten.", n=number),
                                         "indicators"))
            years = [year for year, _value, _note in indicator.values]
            if len(years) != len(set(years)):
                errors.append(SheetError(_("Indikator %(n)d: ein Jahr hat mehrere Ist-Werte.", n=number),
                                         "indicators"))
            if len(years) > MAX_VALUES:
                errors.append(SheetError(_("Indikator %(n)d: zu viele Ist-Werte.", n=number), "indicators"))
    return errors


def check_reason(reason):
    reason = clean_text(reason)
    if not reason:
        raise IdeaError(_("Bitte begründen Sie die Zuordnung; die Begründung ist öffentlich."), "reason")
    if len(reason) > REASON_MAX:
        raise IdeaError(_("Die Begründung darf höchstens %(max)d Zeichen lang sein.", max=REASON_MAX), "reason")
    return reason


def link_ideas(measure, ideas, actor, reason, *, decision=None):
    """Link ideas to a measure with a public reason; returns the ideas that were newly linked.

    Ideas still waiting for an answer move to "fließt in Maßnahme ein" with the reason
    as public answer, which notifies author and supporters; ideas that already had an
    answer keep their status and their author gets a notification about the link.
    """
    reason = check_reason(reason)
    if not ideas:
        raise IdeaError(_("Bitte wählen Sie mindestens eine Idee aus."), "ids")
    hidden = [idea.id for idea in ideas if idea.is_hidden]
    if hidden:
        raise IdeaError(_("Ausgeblendete Ideen können keiner Maßnahme zugeordnet werden: %(ids)s",
                          ids=", ".join(map(str, hidden))), "ids")
    linked_before = set(db.session.scalars(select(IdeaMeasure.idea_id).where(
        IdeaMeasure.measure_id == measure.id, IdeaMeasure.idea_id.in_([idea.id for idea in ideas]))))
    new = [idea for idea in ideas if idea.id not in linked_before]
    for idea in new:
        db.session.add(IdeaMeasure(idea_id=idea.id, measure_id=measure.id, reason=reason,
                                   decision_id=getattr(decision, "id", None), linked_by_id=getattr(actor, "id", None)))
        record("idea.linked_to_measure", idea, actor=actor, new={"measure": measure.number},
               details={"decision_id": getattr(decision, "id", None)}, reason=reason)
        _tell_about_link(idea, measure, actor, reason)
    db.session.flush()
    measure.idea_count = db.session.scalar(select(func.count(IdeaMeasure.id))
                                           .where(IdeaMeasure.measure_id == measure.id))
    return new


def _tell_about_link(idea, measure, actor, reason):
    if idea.status in (Status.SUBMITTED.value, Status.IN_REVIEW.value):
        answer = _("Ihre Idee fließt in die Maßnahme %(number)s „%(title)s“ des Klimaschutzplans ein. %(reason)s",
                   number=measure.number, title=measure.title, reason=reason)
        idea_services.change_status(idea, actor, Status.IN_MEASURE, answer[:TEXT_MAX])
    elif idea.author is not None:
        notify(idea.author, "idea.measure",
               _("Ihre Idee „%(title)s“ wurde der Maßnahme %(number)s „%(measure)s“ zugeordnet.",
                 title=idea.title, number=measure.number, measure=measure.title),
               url_for("measures.detail", measure_id=measure.id), subject=_("Ihre Idee in einer Maßnahme"))


def linked_ideas(measure):
    """The ideas behind a measure, most supported first, with the link: [(Idea, IdeaMeasure)]."""
    return db.session.execute(
        select(Idea, IdeaMeasure).join(IdeaMeasure, IdeaMeasure.idea_id == Idea.id)
        .where(IdeaMeasure.measure_id == measure.id, Idea.hidden_at.is_(None))
        .order_by((Idea.support_count + Idea.dot_votes).desc(), Idea.id)
    ).all()


@idea_services.measure_provider
def _measures_of_ideas(idea_ids):
    links = {}
    if not idea_ids:
        return links
    rows = db.session.execute(
        select(IdeaMeasure.idea_id, Measure.id, Measure.number, Measure.title)
        .join(Measure, Measure.id == IdeaMeasure.measure_id)
        .where(IdeaMeasure.idea_id.in_(idea_ids)).order_by(Measure.number)
    )
    for row in rows:
        links.setdefault(row.idea_id, []).append({
            "id": row.id, "number": row.number, "title": row.title,
            "url": url_for("measures.detail", measure_id=row.id)})
    return links

