"""Staff pages of the balance: the balance years, one page per year (result, final-energy table,
population and options, publishing, deleting) and the CSV downloads of its input.

Every write goes through `services` and each request commits once; with any wrong input
nothing is written. A published balance always keeps a valid result: a change that would
make it impossible to compute is refused (the stored figures stay as they are).
"""
from decimal import Decimal

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from analyse.bisko import BalanceError

from ..access import allow, safe_next
from ..audit.services import record
from ..extensions import db
from ..roles import STAFF
from . import services
from .forms import (ENTRY_BLANK_ROWS, ENTRY_MORE_ROWS, ENTRY_ROWS_MAX, BalanceSettingsForm, ConfirmForm,
                    EntriesForm, NewBalanceForm, balance_settings_data, entries_data)
from .models import QUALITY_LABELS, SECTOR_LABELS, USE_LABELS, Balance
from .staff import bp
from .staff_common import (ENTRY_LABELS, balance_or_404, csv_response, entry_order, flash_outcome, published_guard,
                           result_view, scenario_base_year)

# --- the list of balance years ----------------------------------------------------------------

@bp.route("/", methods=["GET", "POST"])
@allow(STAFF)
def index():
    form = NewBalanceForm()
    if form.validate_on_submit():
        balance = _create_balance(form)
        if balance is not None:
            return redirect(url_for("balance_staff.balance", year=balance.year))
    rows = []
    for balance in services.balances():
        rows.append((balance, balance.result))
    return render_template("balance_staff/index.html", form=form, rows=rows,
                           public_url=_public_url("balance.index"))


def _create_balance(form):
    year = form.year.number
    if services.balance_for_year(year) is not None:
        form.year.errors.append(_("Für %(year)d gibt es schon eine Bilanz.", year=year))
        return None
    values = form.values()
    balance = Balance(year=year, updated_by_id=current_user.id, **values)
    db.session.add(balance)
    try:
        db.session.flush()
    except IntegrityError:  # created at the same moment in another request
        db.session.rollback()
        form.year.errors.append(_("Für %(year)d gibt es schon eine Bilanz.", year=year))
        return None
    services.recompute(balance)
    record("balance.created", balance, actor=current_user,
           new={"year": year, "population": values["population"], "heat_pump_apf": str(values["heat_pump_apf"]),
                "heat_pump_power_in_electricity": values["heat_pump_power_in_electricity"],
                "municipal_in_ghd": values["municipal_in_ghd"]})
    db.session.commit()
    flash(_("Bilanzjahr %(year)d angelegt. Tragen Sie jetzt die Endenergie je Sektor und Energieträger ein oder "
            "importieren Sie sie aus einer Tabelle.", year=year), "success")
    return balance


def _public_url(endpoint, **values):
    """The public page, if the public part of the balance has it (it is built separately)."""
    if endpoint not in current_app.view_functions:
        return None
    try:
        return url_for(endpoint, **values)
    except Exception:  # a public route with other arguments
        return None


# --- one balance year -------------------------------------------------------------------------

@bp.get("/<int:year>")
@allow(STAFF)
def balance(year):
    return _render_balance(balance_or_404(year))


def _entries_form(balance):
    form = EntriesForm(formdata=None, data=entries_data(sorted(balance.entries, key=entry_order())))
    form.add_blank_rows(ENTRY_BLANK_ROWS)
    return form


def _render_balance(balance, settings_form=None, entries_form=None, problems=(), status=200):
    carriers = services.carrier_names()
    if settings_form is None:
        settings_form = BalanceSettingsForm(formdata=None, data=balance_settings_data(balance))
    if entries_form is None:
        entries_form = _entries_form(balance)
    entries_form.offer_choices(carriers)
    changes = services.changed_factors(balance)
    return render_template(
        "balance_staff/balance.html", balance=balance, settings_form=settings_form, entries_form=entries_form,
        problems=problems, result=result_view(balance, carriers), changes=changes, carriers=carriers,
        sectors=SECTOR_LABELS, qualities=QUALITY_LABELS, uses=USE_LABELS, confirm_form=ConfirmForm(),
        public_url=_public_url("balance.year", year=balance.year) or _public_url("balance.index"),
        scenario_base=scenario_base_year() == balance.year), status


@bp.post("/<int:year>/angaben")
@allow(STAFF)
def settings(year):
    balance = balance_or_404(year)
    form = BalanceSettingsForm()
    if not form.validate_on_submit():
        return _render_balance(balance, settings_form=form)
    values = form.values()
    old = {key: _plain(getattr(balance, key)) for key in values}
    new = {key: _plain(value) for key, value in values.items()}
    if old == new:
        flash(_("Keine Änderung an Einwohnerzahl, Optionen und Anmerkung."), "info")
        return redirect(url_for("balance_staff.balance", year=year))
    for key, value in values.items():
        setattr(balance, key, value)
    balance.updated_by_id = current_user.id
    db.session.flush()
    services.recompute(balance)
    refused = published_guard(balance)
    if refused:
        db.session.rollback()
        return _render_balance(balance_or_404(year), settings_form=form, problems=[(None, None, refused)])
    changed = [key for key in values if old[key] != new[key]]
    record("balance.settings", balance, actor=current_user, old={key: old[key] for key in changed},
           new={key: new[key] for key in changed})
    if balance.published:
        services.refresh_measure_savings()
    db.session.commit()
    flash_outcome(balance, _("Angaben gespeichert."))
    return redirect(url_for("balance_staff.balance", year=year))


def _plain(value):
    if isinstance(value, Decimal):
        return services.plain(value)
    return value


@bp.post("/<int:year>/werte")
@allow(STAFF)
def entries(year):
    balance = balance_or_404(year)
    form = EntriesForm()
    if not form.validate_on_submit():  # only the CSRF token can fail: every cell is read by check_entries
        flash(_("Das Formular ist abgelaufen. Bitte geben Sie die Werte erneut ein."), "error")
        return redirect(url_for("balance_staff.balance", year=year))
    posted_rows = len(set(form.rows._extract_indices(form.rows.name, request.form)))
    if posted_rows == 0:
        flash(_("Das Formular enthielt keine Zeilen; es wurde nichts gespeichert."), "error")
        return redirect(url_for("balance_staff.balance", year=year))
    if posted_rows > ENTRY_ROWS_MAX:
        return _render_balance(balance, entries_form=form, problems=[(None, None, _(
            "Das Formular hat mehr als %(max)d Zeilen; es wurde nichts gespeichert.", max=ENTRY_ROWS_MAX))])
    if form.more.data:
        form.add_blank_rows(ENTRY_MORE_ROWS)
        return _render_balance(balance, entries_form=form)
    raw = form.raw_rows()
    if len(raw) > services.MAX_ENTRY_ROWS:
        return _render_balance(balance, entries_form=form, problems=[(None, None, _(
            "Eine Bilanz hat höchstens %(max)d Zeilen.", max=services.MAX_ENTRY_ROWS))])
    checked, errors = services.check_entries(raw)
    if errors:
        return _render_balance(balance, entries_form=form, problems=_attach_row_errors(form, errors))
    if _same_entries(balance, checked):
        flash(_("Keine Änderung an den Werten."), "info")
        return redirect(url_for("balance_staff.balance", year=year))
    services.replace_entries(balance, checked, current_user)
    refused = published_guard(balance)
    if refused:
        db.session.rollback()
        return _render_balance(balance_or_404(year), entries_form=form, problems=[(None, None, refused)])
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return _render_balance(balance_or_404(year), entries_form=form, problems=[(None, None, _(
            "Die Werte wurden gleichzeitig an anderer Stelle geändert. Bitte laden Sie die Seite neu und speichern "
            "Sie erneut."))])
    flash_outcome(balance, ngettext("%(num)d Wert gespeichert.", "%(num)d Werte gespeichert.", len(checked)))
    return redirect(url_for("balance_staff.balance", year=year) + "#ergebnis")


def _attach_row_errors(form, errors):
    """Each error at its cell; the summary lines (anchor, label, message) in the order of the table."""
    problems = []
    for error in sorted(errors, key=lambda e: (e.row or 0, list(ENTRY_LABELS).index(e.field)
                                               if e.field in ENTRY_LABELS else 99)):
        anchor = None
        if error.row and 0 < error.row <= len(form.rows.entries) and error.field in ENTRY_LABELS:
            cell = form.rows.entries[error.row - 1].form[error.field]
            cell.errors = list(cell.errors) + [error.message]
            anchor = cell.id
        label = _("Zeile %(row)d", row=error.row) if error.row else None
        if label and error.field in ENTRY_LABELS:
            label = f"{label}, {ENTRY_LABELS[error.field]}"
        problems.append((anchor, label, error.message))
    return problems


def _same_entries(balance, checked):
    def key(sector, carrier, mwh, quality, note):
        return (sector, carrier, Decimal(mwh).quantize(Decimal("0.001")), quality or None, note or "")

    old = sorted(key(e.sector, e.carrier, e.mwh, e.quality, e.note) for e in balance.entries)
    new = sorted(key(e.sector, e.carrier, e.mwh, e.quality, e.note) for e in checked)
    return old == new


@bp.post("/<int:year>/neu-berechnen")
@allow(STAFF)
def recompute(year):
    balance = balance_or_404(year)
    back = safe_next(request.form.get("next"), "balance_staff.index") if request.form.get("next") \
        else url_for("balance_staff.balance", year=year)
    before = balance.result
    services.recompute(balance)
    refused = published_guard(balance)
    if refused:
        db.session.rollback()
        flash(refused, "error")
        return redirect(back)
    after = balance.result
    record("balance.recomputed", balance, actor=current_user,
           old={"total_t_co2e": before["total_t_co2e"] if before else None},
           new={"total_t_co2e": after["total_t_co2e"] if after else None, "error": balance.error or None})
    if balance.published:
        services.refresh_measure_savings()
    db.session.commit()
    flash_outcome(balance, _("Bilanz %(year)d mit den aktuellen Faktoren berechnet.", year=year))
    return redirect(back)


@bp.post("/<int:year>/veroeffentlichen")
@allow(STAFF)
def publish(year):
    return _set_published(balance_or_404(year), True)


@bp.post("/<int:year>/zurueckziehen")
@allow(STAFF)
def unpublish(year):
    return _set_published(balance_or_404(year), False)


def _set_published(balance, published):
    target = url_for("balance_staff.balance", year=balance.year)
    if balance.published == published:
        flash(_("Die Bilanz %(year)d ist bereits veröffentlicht.", year=balance.year) if published else
              _("Die Bilanz %(year)d ist nicht veröffentlicht.", year=balance.year), "info")
        return redirect(target)
    try:
        services.set_published(balance, published, actor=current_user)
    except BalanceError as error:
        db.session.rollback()
        detail = _(" Grund: %(error)s", error=balance.error) if balance.error else ""
        flash(f"{error}{detail}", "error")
        return redirect(target)
    db.session.commit()
    if published:
        flash(_("Die Bilanz %(year)d ist veröffentlicht.", year=balance.year), "success")
        if services.changed_factors(balance):
            flash(_("Hinweis: Die Bilanz wurde mit Emissionsfaktoren berechnet, die inzwischen geändert wurden. "
                    "Mit „Neu berechnen“ übernehmen Sie die aktuellen Faktoren."), "info")
    else:
        flash(_("Die Veröffentlichung der Bilanz %(year)d ist zurückgezogen.", year=balance.year), "success")
    return redirect(target)


@bp.post("/<int:year>/loeschen")
@allow(STAFF)
def delete(year):
    balance = balance_or_404(year)
    if balance.published:
        flash(_("Eine veröffentlichte Bilanz kann nicht gelöscht werden. Ziehen Sie zuerst die Veröffentlichung "
                "zurück."), "error")
        return redirect(url_for("balance_staff.balance", year=year))
    form = ConfirmForm()
    if request.form.get("confirmed") != "1" or not form.validate_on_submit():
        return render_template("balance_staff/delete.html", balance=balance, form=form,
                               scenario_base=scenario_base_year(explicit_only=True) == year)
    result = balance.result
    record("balance.deleted", balance, actor=current_user,
           old={"year": balance.year, "population": balance.population, "entries": len(balance.entries),
                "total_t_co2e": result["total_t_co2e"] if result else None})
    db.session.delete(balance)
    db.session.commit()
    flash(_("Die Bilanz %(year)d ist gelöscht.", year=year), "success")
    return redirect(url_for("balance_staff.index"))


# --- downloads of the input -------------------------------------------------------------------

@bp.get("/<int:year>/werte.csv")
@allow(STAFF)
def entries_csv(year):
    balance = balance_or_404(year)
    return csv_response(services.entries_csv_rows(balance), f"bilanz-{year}-endenergie.csv")


@bp.get("/vorlage.csv")
@allow(STAFF)
def template_csv():
    """Every sector with the carriers of its use and an empty MWh column, to fill in and import."""
    carriers = services.carriers()
    rows = [["sector", "carrier", "mwh", "quality", "note", "bezeichnung"]]
    for sector, label in SECTOR_LABELS.items():
        for carrier in carriers:
            transport = sector == "verkehr"
            if (carrier.use == "verkehr") == transport or (transport and carrier.code == "strom"):
                rows.append([sector, carrier.code, "", "", "", f"{label} – {carrier.name}"])
    return csv_response(rows, "bilanz-vorlage.csv")


from . import staff_import, staff_scenario, staff_tables  # noqa: E402,F401  (the other staff pages)
