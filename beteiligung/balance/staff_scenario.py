"""Staff page of the scenarios: the assumptions (base and target year, annual change of final
energy per sector, paths of the electricity factor and the population, note, publishing), the
compensation options, the BISKO sector of each field of action, and a preview computed from
the stored base balance and the measure plan.
"""
import json
from decimal import Decimal

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from ..access import allow
from ..audit.services import record
from ..extensions import db
from ..ideas.models import Sector
from ..measures.forms import format_number
from ..measures.sheet import parse_number
from ..roles import STAFF
from . import services
from .forms import (ELECTRICITY_PATH_MAX, POPULATION_MAX, SPREAD, CompensationForm, ConfirmForm,
                    ScenarioForm, bisko_choices)
from .models import SECTOR_LABELS, STATIONARY, CompensationOption, ScenarioPathPoint, ScenarioSettings
from .staff import bp

PATHS = {  # kind -> (form field, label, maximum, decimal places, whole numbers)
    "electricity": ("electricity", "Strom-Faktor", ELECTRICITY_PATH_MAX, 4, False),
    "population": ("population", "Einwohnerzahl", Decimal(POPULATION_MAX), 0, True),
}


def _path_label(kind):
    return _("Pfad des Strom-Faktors") if kind == "electricity" else _("Pfad der Einwohnerzahl")


# --- the page -------------------------------------------------------------------------------

@bp.route("/szenario", methods=["GET", "POST"])
@allow(STAFF)
def scenario():
    settings = services.scenario_settings()
    if request.method == "POST":
        form = ScenarioForm()
    else:
        form = ScenarioForm(formdata=None, data=_settings_data(settings))
        form.add_blank_rows()
    _offer_base_years(form, settings)
    problems = []
    if request.method == "POST":
        form.validate()  # the CSRF token is checked for every POST (access.enforce_access)
        problems = _form_problems(form)
        values = _checked_settings(form, problems)
        if not problems:
            problems = _store_settings(settings, values)
            if not problems:
                return redirect(url_for("balance_staff.scenario"))
    return _render(form=form, problems=problems)


def _render(form=None, problems=(), option_form=None, mapping_errors=None):
    settings = services.scenario_settings()
    if form is None:
        form = ScenarioForm(formdata=None, data=_settings_data(settings))
        form.add_blank_rows()
        _offer_base_years(form, settings)
    preview, unavailable = None, None
    if settings is None:
        unavailable = _("Speichern Sie zuerst die Annahmen; dann erscheint hier die Vorschau.")
    else:
        try:
            preview = services.build_scenario(published_only=False)
        except services.ScenarioUnavailable as error:
            unavailable = str(error)
    sectors = db.session.scalars(select(Sector).order_by(Sector.position, Sector.name)).all()
    return render_template(
        "balance_staff/scenario.html", form=form, settings=settings, problems=problems, preview=preview,
        unavailable=unavailable, options=services.compensation_options(),
        option_form=option_form or CompensationForm(formdata=None), sectors=sectors, bisko=bisko_choices(),
        mapping_errors=mapping_errors or {}, sector_labels=SECTOR_LABELS, confirm_form=ConfirmForm(),
        public_url=url_for("balance.scenario") if "balance.scenario" in current_app.view_functions else None,
        measure_counts=_measure_counts())


def _measure_counts():
    from ..measures.models import Measure

    return dict(db.session.execute(select(Measure.sector_id, func.count()).group_by(Measure.sector_id)).tuples().all())


def _settings_data(settings):
    if settings is None:
        return {"target_year": str(services.DEFAULT_TARGET_YEAR), "base_year": ""}
    data = {"base_year": "" if settings.base_year is None else str(settings.base_year),
            "target_year": str(settings.target_year), "note": settings.note, "published": settings.published}
    for sector, value in settings.annual_change.items():
        data[f"change_{sector}"] = format_number(Decimal(str(value)))
    for kind, (name, *_rest) in PATHS.items():
        data[name] = [{"year": str(year), "value": format_number(value)}
                      for year, value in services.path(kind).items()]
    return data


def _offer_base_years(form, settings):
    balances = services.balances()
    choices = [("", _("neueste veröffentlichte Bilanz"))]
    for balance in balances:
        state = _("veröffentlicht") if balance.published else _("nicht veröffentlicht")
        if balance.result_json is None:
            state = _("%(state)s, nicht berechnet", state=state)
        choices.append((str(balance.year), f"{balance.year} ({state})"))
    stored = settings.base_year if settings is not None else None
    if stored is not None and stored not in {balance.year for balance in balances}:
        choices.append((str(stored), _("%(year)d (Bilanz gibt es nicht mehr)", year=stored)))
    form.base_year.choices = choices


def _form_problems(form):
    problems = []
    for name in ["base_year", "target_year"] + [f"change_{sector}" for sector in SECTOR_LABELS] + ["note"]:
        for message in form[name].errors:
            problems.append((form[name].id, str(form[name].label.text), message))
    return problems


def _checked_settings(form, problems):
    """The values to store, checked beyond the single fields; problems are added (anchor, label, message)."""
    years = {balance.year: balance for balance in services.balances()}
    base_year = None
    if form.base_year.data:
        base_year = int(form.base_year.data) if form.base_year.data.isdigit() else None
        if base_year not in years:
            message = _("Für dieses Jahr gibt es keine Bilanz.")
            form.base_year.errors.append(message)
            problems.append((form.base_year.id, _("Basisjahr"), message))
    target_year = getattr(form.target_year, "number", None)
    compared = base_year if base_year is not None else next(
        (year for year, balance in years.items() if balance.published and balance.result_json), None)
    if compared is not None and target_year is not None and target_year <= compared:
        message = _("Das Zieljahr muss nach dem Basisjahr %(year)d liegen.", year=compared)
        form.target_year.errors.append(message)
        problems.append((form.target_year.id, _("Zieljahr"), message))
    paths = {kind: _path_points(form, kind, problems) for kind in PATHS}
    changes = {}
    for sector, field in form.change_fields():
        number = getattr(field, "number", None)
        changes[sector] = _json_number(number if number is not None else Decimal(0))
    return {"base_year": base_year, "target_year": target_year, "annual_change": changes,
            "note": (form.note.data or "").replace("\r\n", "\n").strip(), "published": bool(form.published.data),
            "paths": paths}


def _store_settings(settings, values):
    """Store the assumptions and both paths (one commit); problems when it failed, else []."""
    old = _snapshot(settings)
    if settings is None:
        settings = ScenarioSettings()
        db.session.add(settings)
    settings.base_year, settings.target_year = values["base_year"], values["target_year"]
    settings.annual_change_json = json.dumps(values["annual_change"], ensure_ascii=False)
    settings.note, settings.published = values["note"], values["published"]
    settings.updated_by_id = current_user.id
    for kind, points in values["paths"].items():
        db.session.execute(delete(ScenarioPathPoint).where(ScenarioPathPoint.kind == kind))
        db.session.add_all(ScenarioPathPoint(kind=kind, year=year, value=value) for year, value in points.items())
    db.session.flush()
    new = _snapshot(settings)
    changed = [key for key in new if new[key] != old.get(key)]
    if not changed:
        db.session.rollback()
        flash(_("Keine Änderung an den Annahmen."), "info")
        return []
    record("scenario.settings", settings, actor=current_user, old={key: old.get(key) for key in changed},
           new={key: new[key] for key in changed})
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return [(None, None, _("Die Annahmen wurden gleichzeitig an anderer Stelle geändert. Bitte laden Sie die "
                               "Seite neu und speichern Sie erneut."))]
    flash(_("Die Annahmen der Szenarien sind gespeichert."), "success")
    if settings.published:
        try:
            services.build_scenario(published_only=True)
        except services.ScenarioUnavailable as error:
            flash(_("Die Szenarien sind als veröffentlicht markiert, öffentlich aber noch nicht zu sehen: %(why)s",
                    why=str(error)), "info")
    return []


def _json_number(value):
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


def _snapshot(settings):
    if settings is None:
        return {}
    return {"base_year": settings.base_year, "target_year": settings.target_year,
            "annual_change": settings.annual_change, "published": settings.published, "note": settings.note,
            "electricity": {str(year): services.plain(value) for year, value in services.path("electricity").items()},
            "population": {str(year): services.plain(value) for year, value in services.path("population").items()}}


def _path_points(form, kind, problems):
    """{year: Decimal} of the filled rows of one path; problems are added with the row number."""
    name, _label, maximum, places, whole = PATHS[kind]
    label = _path_label(kind)
    points, rows = {}, form[name]
    for number, entry in enumerate(rows, start=1):
        row = entry.form
        year_text, value_text = (row.year.data or "").strip(), (row.value.data or "").strip()
        if row.remove.data or (not year_text and not value_text):
            continue
        where = _("%(path)s, Zeile %(row)d", path=label, row=number)
        year = int(year_text) if year_text.isdigit() else None
        if year is None or year not in services.YEARS:
            _row_error(row.year, _("Bitte eine Jahreszahl zwischen %(first)d und %(last)d angeben.",
                                   first=services.YEARS.start, last=services.YEARS.stop - 1), where, problems)
        elif year in points:
            _row_error(row.year, _("Das Jahr %(year)d steht schon in einer anderen Zeile.", year=year), where,
                       problems)
        value = parse_number(value_text) if value_text else None
        if not value_text:
            _row_error(row.value, _("Bitte den Wert angeben."), where, problems)
        elif value is None:
            _row_error(row.value, _("„%(value)s“ ist keine Zahl.", value=value_text[:40]), where, problems)
        elif whole and (value <= 0 or value != value.to_integral_value()):
            _row_error(row.value, _("Bitte eine ganze Zahl größer als 0 angeben."), where, problems)
        elif value < 0 or value > maximum:
            _row_error(row.value, _("Der Wert muss zwischen 0 und %(max)s liegen.", max=format_number(maximum)),
                       where, problems)
        elif -value.normalize().as_tuple().exponent > places:
            _row_error(row.value, _("Höchstens %(places)d Nachkommastellen.", places=places), where, problems)
        elif year is not None and year in services.YEARS and year not in points:
            points[year] = value
    return dict(sorted(points.items()))


def _row_error(field, message, where, problems):
    field.errors = list(field.errors) + [message]
    problems.append((field.id, where, message))


# --- fields of action -> BISKO sectors ------------------------------------------------------

@bp.post("/szenario/handlungsfelder")
@allow(STAFF)
def sector_mapping():
    sectors = db.session.scalars(select(Sector).order_by(Sector.position, Sector.name)).all()
    allowed = {SPREAD, STATIONARY, *SECTOR_LABELS}
    errors, changed = {}, []
    for sector in sectors:
        value = request.form.get(f"bisko-{sector.id}")
        if value is None:
            continue  # not on the page the person saw (a field of action added meanwhile)
        if value not in allowed:
            errors[sector.id] = _("Unbekannter BISKO-Sektor.")
            continue
        new = value or None
        if new != sector.bisko_sector:
            changed.append((sector, sector.bisko_sector, new))
    if errors:
        return _render(mapping_errors=errors)
    for sector, old, new in changed:
        sector.bisko_sector = new
        record("sector.bisko_sector", sector, object_type="sector", actor=current_user,
               old={"bisko_sector": old}, new={"bisko_sector": new})
    db.session.commit()
    if changed:
        flash(_("Zuordnung der Handlungsfelder gespeichert (%(names)s).",
                names=", ".join(sector.name for sector, _old, _new in changed)), "success")
    else:
        flash(_("Keine Änderung an der Zuordnung der Handlungsfelder."), "info")
    return redirect(url_for("balance_staff.scenario") + "#handlungsfelder")


# --- compensation options -------------------------------------------------------------------

def _option_or_404(option_id):
    return db.session.get(CompensationOption, option_id) or abort(404)


def _option_values(option):
    return {"name": option.name, "description": option.description,
            "capacity_t_per_year": services.plain(option.capacity_t_per_year),
            "cost_eur_per_t": services.plain(option.cost_eur_per_t)}


def _name_taken(name, option=None):
    query = select(CompensationOption).where(func.lower(CompensationOption.name) == name.lower())
    if option is not None:
        query = query.where(CompensationOption.id != option.id)
    return db.session.scalar(query.limit(1)) is not None


def _save_option(option, form):
    """Create or update an option; False when it cannot be saved (the error is at its field)."""
    name = " ".join(form.name.data.split())
    if _name_taken(name, option):
        form.name.errors.append(_("Eine Kompensationsmöglichkeit „%(name)s“ gibt es schon.", name=name))
        return False
    values = {"name": name, "description": (form.description.data or "").replace("\r\n", "\n").strip(),
              "capacity_t_per_year": form.capacity_t_per_year.number, "cost_eur_per_t": form.cost_eur_per_t.number}
    if option is None:
        position = (db.session.scalar(select(func.max(CompensationOption.position))) or 0) + 1
        option = CompensationOption(position=position, **values)
        db.session.add(option)
        db.session.flush()
        record("compensation_option.created", option, actor=current_user, new=_option_values(option))
        message = _("Kompensationsmöglichkeit „%(name)s“ angelegt.", name=name)
    else:
        old = _option_values(option)
        for key, value in values.items():
            setattr(option, key, value)
        new = _option_values(option)
        changed = [key for key in new if new[key] != old[key]]
        if not changed:
            flash(_("Keine Änderung an „%(name)s“.", name=name), "info")
            return True
        record("compensation_option.updated", option, actor=current_user, old={k: old[k] for k in changed},
               new={k: new[k] for k in changed})
        message = _("Kompensationsmöglichkeit „%(name)s“ gespeichert.", name=name)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        form.name.errors.append(_("Gleichzeitig wurde eine Kompensationsmöglichkeit mit diesem Namen gespeichert."))
        return False
    flash(message, "success")
    return True


@bp.post("/szenario/kompensation")
@allow(STAFF)
def add_option():
    form = CompensationForm()
    if form.validate_on_submit() and _save_option(None, form):
        return redirect(url_for("balance_staff.scenario") + "#kompensation")
    return _render(option_form=form)


@bp.route("/szenario/kompensation/<int:option_id>", methods=["GET", "POST"])
@allow(STAFF)
def edit_option(option_id):
    option = _option_or_404(option_id)
    if request.method == "POST":
        form = CompensationForm()
    else:
        form = CompensationForm(formdata=None, data={
            "name": option.name, "description": option.description,
            "capacity_t_per_year": format_number(option.capacity_t_per_year),
            "cost_eur_per_t": format_number(option.cost_eur_per_t)})
    if form.validate_on_submit() and _save_option(option, form):
        return redirect(url_for("balance_staff.scenario") + "#kompensation")
    return render_template("balance_staff/option.html", form=form, option=option, confirm_form=ConfirmForm())


@bp.post("/szenario/kompensation/<int:option_id>/loeschen")
@allow(STAFF)
def delete_option(option_id):
    option = _option_or_404(option_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    record("compensation_option.deleted", option, actor=current_user, old=_option_values(option))
    name = option.name
    db.session.delete(option)
    db.session.commit()
    flash(_("Kompensationsmöglichkeit „%(name)s“ gelöscht.", name=name), "success")
    return redirect(url_for("balance_staff.scenario") + "#kompensation")

