"""Staff pages for the reference tables of the balance: emission factors per carrier and year,
and the energy carriers.

Editing a factor never changes a stored balance (each keeps the factors it was computed
with); the pages show which balances now differ from today's factors and recompute them on
request. The measure sheets that compute their savings from carriers follow at once.
Every change is written to the audit log with the old and new values.
"""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from analyse.bisko import CARRIER_CODE

from ..access import allow
from ..audit.services import entries_for, record
from ..extensions import db
from ..measures.models import MeasureEnergySaving
from ..models import utcnow
from ..roles import STAFF
from . import services
from .forms import CarrierEditForm, CarrierForm, ConfirmForm, FactorForm
from .models import USE_LABELS, BalanceEntry, EmissionFactor, EnergyCarrier
from .staff import bp
from .staff_common import csv_response

HISTORY_SHOWN = 20


# --- emission factors -----------------------------------------------------------------------

def _factor_or_404(factor_id):
    return db.session.get(EmissionFactor, factor_id) or abort(404)


def _factor_values(factor):
    return {"carrier": factor.carrier, "valid_from": factor.valid_from,
            "t_co2e_per_mwh": services.plain(factor.t_co2e_per_mwh), "source": factor.source, "note": factor.note}


def stale_balances():
    """(balance, [FactorChange]) of every stored balance whose factors differ from today's table."""
    found = []
    for balance in services.balances():
        changes = services.changed_factors(balance)
        if changes:
            found.append((balance, changes))
    return found


@bp.route("/faktoren", methods=["GET", "POST"])
@allow(STAFF)
def factors():
    carriers = services.carrier_names()
    form = FactorForm()
    form.offer_carriers(carriers)
    if request.method == "GET" and request.args.get("traeger") in carriers:
        form.carrier.data = request.args["traeger"]
    if form.validate_on_submit() and _save_factor(None, form, carriers):
        return redirect(url_for("balance_staff.factors") + "#traeger-" + form.carrier.data)
    rows = services.factor_rows()
    by_carrier = {code: [] for code in carriers}
    for row in rows:
        by_carrier.setdefault(row.carrier, []).append(row)
    return render_template("balance_staff/factors.html", form=form, carriers=carriers, by_carrier=by_carrier,
                           stale=stale_balances(), editors=_editors(rows), confirm_form=ConfirmForm())


def _editors(rows):
    from ..auth.models import User

    ids = {row.updated_by_id for row in rows if row.updated_by_id}
    if not ids:
        return {}
    return {user.id: user.public_name for user in db.session.scalars(select(User).where(User.id.in_(ids)))}


@bp.route("/faktoren/<int:factor_id>", methods=["GET", "POST"])
@allow(STAFF)
def edit_factor(factor_id):
    factor = _factor_or_404(factor_id)
    carriers = services.carrier_names()
    if request.method == "POST":
        form = FactorForm()
    else:
        form = FactorForm(formdata=None, data={**_factor_values(factor),
                                               "t_co2e_per_mwh": _german(factor.t_co2e_per_mwh),
                                               "valid_from": str(factor.valid_from)})
    form.offer_carriers(carriers)
    if form.validate_on_submit() and _save_factor(factor, form, carriers):
        return redirect(url_for("balance_staff.factors") + "#traeger-" + factor.carrier)
    return render_template("balance_staff/factor.html", form=form, factor=factor, carriers=carriers,
                           users=_balances_using(factor), confirm_form=ConfirmForm(),
                           history=entries_for("emission_factor", factor.id)[:HISTORY_SHOWN])


def _german(value):
    from ..measures.forms import format_number

    return format_number(value)


def _balances_using(factor):
    """The stored balances whose result used this factor row (carrier and valid_from)."""
    found = []
    for balance in services.balances():
        used = (balance.result or {}).get("factors_used", {}).get(factor.carrier)
        if used and used.get("valid_from") == factor.valid_from:
            found.append(balance)
    return found


def _save_factor(factor, form, carriers):
    """Create or update a factor row; False (with the error at its field) when it cannot be saved."""
    carrier = form.carrier.data
    if carrier not in carriers:
        form.carrier.errors.append(_("Unbekannter Energieträger."))
        return False
    valid_from = form.valid_from.number
    clash = db.session.scalar(select(EmissionFactor).where(EmissionFactor.carrier == carrier,
                                                           EmissionFactor.valid_from == valid_from))
    if clash is not None and clash is not factor:
        form.valid_from.errors.append(_(
            "Für „%(carrier)s“ gibt es schon einen Faktor ab %(year)d (%(value)s t CO₂e/MWh). Bearbeiten Sie "
            "diesen oder wählen Sie ein anderes Jahr.", carrier=carriers[carrier], year=valid_from,
            value=_german(clash.t_co2e_per_mwh)))
        return False
    new = {"carrier": carrier, "valid_from": valid_from, "t_co2e_per_mwh": form.t_co2e_per_mwh.number,
           "source": " ".join(form.source.data.split()), "note": " ".join((form.note.data or "").split())}
    if factor is None:
        factor = EmissionFactor(**new, updated_by_id=current_user.id)
        db.session.add(factor)
        db.session.flush()
        record("emission_factor.created", factor, actor=current_user, new=_factor_values(factor))
        done = _("Faktor für „%(carrier)s“ ab %(year)d angelegt.", carrier=carriers[carrier], year=valid_from)
    else:
        old = _factor_values(factor)
        for key, value in new.items():
            setattr(factor, key, value)
        changed = {key: value for key, value in _factor_values(factor).items() if old[key] != value}
        if not changed:
            flash(_("Keine Änderung am Faktor."), "info")
            return True
        factor.updated_by_id = current_user.id
        factor.updated_at = utcnow()
        record("emission_factor.updated", factor, actor=current_user, old={key: old[key] for key in changed},
               new=changed)
        done = _("Faktor für „%(carrier)s“ ab %(year)d gespeichert.", carrier=carriers[carrier], year=valid_from)
    return _commit_factor_change(done)


def _commit_factor_change(done):
    db.session.flush()
    sheets = services.refresh_measure_savings()
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        flash(_("Der Faktor wurde gleichzeitig an anderer Stelle geändert. Bitte prüfen Sie die Tabelle und "
                "speichern Sie erneut."), "error")
        return False
    flash(done, "success")
    if sheets:
        flash(ngettext("%(num)d Maßnahmenblatt hat seine Einsparung mit den neuen Faktoren neu berechnet.",
                       "%(num)d Maßnahmenblätter haben ihre Einsparung mit den neuen Faktoren neu berechnet.",
                       sheets), "info")
    stale = stale_balances()
    if stale:
        flash(ngettext("Die gespeicherte Bilanz %(years)s wurde mit anderen Faktoren berechnet; sie bleibt, bis Sie "
                       "sie neu berechnen (siehe unten).",
                       "Die gespeicherten Bilanzen %(years)s wurden mit anderen Faktoren berechnet; sie bleiben, "
                       "bis Sie sie neu berechnen (siehe unten).", len(stale),
                       years=", ".join(str(balance.year) for balance, _changes in stale)), "info")
    return True


@bp.post("/faktoren/<int:factor_id>/loeschen")
@allow(STAFF)
def delete_factor(factor_id):
    factor = _factor_or_404(factor_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    carriers = services.carrier_names()
    name = carriers.get(factor.carrier, factor.carrier)
    record("emission_factor.deleted", factor, actor=current_user, old=_factor_values(factor))
    code, year = factor.carrier, factor.valid_from
    db.session.delete(factor)
    _commit_factor_change(_("Faktor für „%(carrier)s“ ab %(year)d gelöscht.", carrier=name, year=year))
    return redirect(url_for("balance_staff.factors") + "#traeger-" + code)


@bp.get("/faktoren.csv")
@allow(STAFF)
def factors_csv():
    """The factor table in the format of `python -m analyse balance --factors` (comma, UTF-8)."""
    return csv_response(services.factors_csv_rows(), "emissionsfaktoren.csv", delimiter=",")


# --- energy carriers ------------------------------------------------------------------------

def _carrier_or_404(carrier_id):
    return db.session.get(EnergyCarrier, carrier_id) or abort(404)


def _usage():
    """code -> (entries, factors, measure sheet rows) naming the carrier."""
    def counts(column):
        return dict(db.session.execute(select(column, func.count()).group_by(column)).tuples().all())

    entries = counts(BalanceEntry.carrier)
    factors = counts(EmissionFactor.carrier)
    sheets = counts(MeasureEnergySaving.carrier)
    return {code: (entries.get(code, 0), factors.get(code, 0), sheets.get(code, 0))
            for code in set(entries) | set(factors) | set(sheets)}


def _carrier_values(carrier):
    return {"code": carrier.code, "name": carrier.name, "use": carrier.use, "note": carrier.note}


def _name_taken(name, carrier=None):
    query = select(EnergyCarrier).where(func.lower(EnergyCarrier.name) == name.lower())
    if carrier is not None:
        query = query.where(EnergyCarrier.id != carrier.id)
    return db.session.scalar(query.limit(1)) is not None


@bp.route("/energietraeger", methods=["GET", "POST"])
@allow(STAFF)
def carriers():
    form = CarrierForm()
    if form.validate_on_submit() and _create_carrier(form):
        return redirect(url_for("balance_staff.carriers"))
    return render_template("balance_staff/carriers.html", form=form, carriers=services.carriers(), usage=_usage(),
                           uses=USE_LABELS, confirm_form=ConfirmForm())


def _create_carrier(form):
    code = (form.code.data or "").strip()
    name = " ".join(form.name.data.split())
    ok = True
    if not CARRIER_CODE.match(code):
        form.code.errors.append(_("Nur Kleinbuchstaben a–z, Ziffern und Unterstrich, höchstens 32 Zeichen "
                                  "(z. B. „braunkohle“)."))
        ok = False
    elif db.session.scalar(select(EnergyCarrier).where(EnergyCarrier.code == code)) is not None:
        form.code.errors.append(_("Das Kürzel „%(code)s“ ist schon vergeben.", code=code))
        ok = False
    if _name_taken(name):
        form.name.errors.append(_("Den Namen „%(name)s“ trägt schon ein anderer Energieträger.", name=name))
        ok = False
    if not ok:
        return False
    position = (db.session.scalar(select(func.max(EnergyCarrier.position))) or 0) + 1
    carrier = EnergyCarrier(code=code, name=name, use=form.use.data, note=" ".join((form.note.data or "").split()),
                            position=position, builtin=False)
    db.session.add(carrier)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        form.code.errors.append(_("Gleichzeitig wurde ein Energieträger mit diesem Kürzel oder Namen angelegt."))
        return False
    record("energy_carrier.created", carrier, actor=current_user, new=_carrier_values(carrier))
    db.session.commit()
    flash(_("Energieträger „%(name)s“ angelegt. Tragen Sie jetzt seinen Emissionsfaktor ein.", name=name), "success")
    return True


@bp.route("/energietraeger/<int:carrier_id>", methods=["GET", "POST"])
@allow(STAFF)
def edit_carrier(carrier_id):
    carrier = _carrier_or_404(carrier_id)
    if request.method == "POST":
        form = CarrierEditForm()
    else:
        form = CarrierEditForm(formdata=None, data=_carrier_values(carrier))
    if form.validate_on_submit():
        name = " ".join(form.name.data.split())
        if _name_taken(name, carrier):
            form.name.errors.append(_("Den Namen „%(name)s“ trägt schon ein anderer Energieträger.", name=name))
        else:
            old = _carrier_values(carrier)
            carrier.name, carrier.use = name, form.use.data
            carrier.note = " ".join((form.note.data or "").split())
            new = _carrier_values(carrier)
            changed = [key for key in new if new[key] != old[key]]
            if changed:
                record("energy_carrier.updated", carrier, actor=current_user, old={k: old[k] for k in changed},
                       new={k: new[k] for k in changed})
                try:
                    db.session.commit()
                except IntegrityError:
                    db.session.rollback()
                    flash(_("Der Energieträger wurde gleichzeitig geändert. Bitte prüfen Sie ihn erneut."), "error")
                    return redirect(url_for("balance_staff.edit_carrier", carrier_id=carrier_id))
                flash(_("Energieträger „%(name)s“ gespeichert.", name=name), "success")
            else:
                flash(_("Keine Änderung am Energieträger."), "info")
            return redirect(url_for("balance_staff.carriers"))
    entries, factor_count, sheets = _usage().get(carrier.code, (0, 0, 0))
    return render_template("balance_staff/carrier.html", form=form, carrier=carrier, entries=entries,
                           factor_count=factor_count, sheets=sheets, confirm_form=ConfirmForm(),
                           history=entries_for("energy_carrier", carrier.id)[:HISTORY_SHOWN])


@bp.post("/energietraeger/<int:carrier_id>/loeschen")
@allow(STAFF)
def delete_carrier(carrier_id):
    carrier = _carrier_or_404(carrier_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    entries, factor_count, sheets = _usage().get(carrier.code, (0, 0, 0))
    if carrier.builtin:
        flash(_("„%(name)s“ gehört zu den BISKO-Energieträgern und kann nicht gelöscht werden.", name=carrier.name),
              "error")
        return redirect(url_for("balance_staff.edit_carrier", carrier_id=carrier.id))
    if entries or factor_count or sheets:
        flash(_("„%(name)s“ wird noch verwendet (%(entries)d Bilanzwerte, %(factors)d Emissionsfaktoren, "
                "%(sheets)d Maßnahmenblätter) und kann erst gelöscht werden, wenn nichts mehr darauf verweist.",
                name=carrier.name, entries=entries, factors=factor_count, sheets=sheets), "error")
        return redirect(url_for("balance_staff.edit_carrier", carrier_id=carrier.id))
    record("energy_carrier.deleted", carrier, actor=current_user, old=_carrier_values(carrier))
    name = carrier.name
    db.session.delete(carrier)
    try:
        db.session.commit()
    except IntegrityError:  # a factor or an entry was added at the same moment
        db.session.rollback()
        flash(_("„%(name)s“ wird inzwischen verwendet und wurde nicht gelöscht.", name=name), "error")
        return redirect(url_for("balance_staff.carriers"))
    flash(_("Energieträger „%(name)s“ gelöscht.", name=name), "success")
    return redirect(url_for("balance_staff.carriers"))
