"""Helpers shared by the balance staff pages: the stored result as tables, CSV downloads, the
guard that keeps a published balance computable."""
import codecs
import csv
import io

from flask import abort, current_app, flash
from flask_babel import format_decimal
from flask_babel import gettext as _

from . import services
from .models import SECTOR_LABELS

ENTRY_LABELS = services.ENTRY_FIELD_LABELS  # field -> German column name (sector, carrier, mwh, quality, note)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def balance_or_404(year):
    return services.balance_for_year(year) or abort(404)


def flash_outcome(balance, done):
    """Flash what was done and the new total, or why the balance cannot be computed now."""
    if balance.result_json is not None:
        flash(_("%(done)s Die Bilanz ist neu berechnet: %(total)s t CO₂e.", done=done,
                total=format_decimal(balance.result["total_t_co2e"], format="#,##0.#")), "success")
    else:
        flash(_("%(done)s Die Bilanz kann so nicht berechnet werden: %(error)s", done=done, error=balance.error),
              "info")


def csv_response(rows, filename, delimiter=";"):
    """A CSV download for Excel in Germany: UTF-8 with BOM; text that Excel would run as a formula gets a '."""
    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    response = current_app.response_class(codecs.BOM_UTF8 + text.getvalue().encode("utf-8"),
                                          mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _is_number(value):
        return "'" + value
    return value


def _is_number(text):
    from ..measures.sheet import parse_number

    return parse_number(text) is not None


def entry_order():
    """Sort key for entries: sectors in BISKO order, carriers in the order of the carrier table."""
    sectors = list(SECTOR_LABELS)
    carriers = {code: position for position, code in enumerate(services.carrier_names())}

    def key(entry):
        return (sectors.index(entry.sector) if entry.sector in sectors else len(sectors),
                carriers.get(entry.carrier, len(carriers)), entry.carrier)

    return key


def published_guard(balance):
    """The message refusing a change that leaves a published balance without a result, or None."""
    if balance.published and balance.result_json is None:
        return _("Die Bilanz %(year)d ist veröffentlicht und ließe sich mit dieser Änderung nicht mehr berechnen: "
                 "%(error)s Es wurde nichts gespeichert. Beheben Sie die Ursache oder ziehen Sie die "
                 "Veröffentlichung zuerst zurück.", year=balance.year, error=balance.error)
    return None


def scenario_base_year(explicit_only=False):
    """The base year the scenario settings name (or, unless explicit_only, would take), else None."""
    settings = services.scenario_settings()
    if settings is None:
        return None
    if settings.base_year is not None or explicit_only:
        return settings.base_year
    published = [balance.year for balance in services.balances(published_only=True) if balance.result_json]
    return published[0] if published else None


def adjustment_text(item, carriers):
    sector = SECTOR_LABELS.get(item["sector"], item["sector"])
    carrier = carriers.get(item["carrier"], item["carrier"])
    if item["reason"] == "heat_pump":
        return _("%(sector)s: Wärmepumpenstrom aus „%(carrier)s“ herausgerechnet", sector=sector, carrier=carrier)
    if item["reason"] == "municipal":
        return _("Gewerbe, Handel, Dienstleistungen: kommunale Einrichtungen aus „%(carrier)s“ herausgerechnet",
                 carrier=carrier)
    return f"{sector}, {carrier}: {item['reason']}"


def result_view(balance, carriers):
    """The stored result as rows for the page's tables, or None when there is none."""
    data = balance.result
    if not data:
        return None
    total = data["total_t_co2e"] or 0

    def share(value):
        return value / total * 100 if total else None

    sectors = [{"code": code, "label": label, "t_co2e": data["by_sector"].get(code, 0),
                "mwh": data["by_sector_mwh"].get(code, 0), "share": share(data["by_sector"].get(code, 0))}
               for code, label in SECTOR_LABELS.items()]
    by_carrier = [{"code": code, "label": carriers.get(code, code), "t_co2e": value,
                   "mwh": data["by_carrier_mwh"].get(code, 0), "share": share(value)}
                  for code, value in data["by_carrier"].items()]
    factors = [{"code": code, "label": carriers.get(code, code), **used}
               for code, used in data["factors_used"].items()]
    rows = [{**row, "sector_label": SECTOR_LABELS.get(row["sector"], row["sector"]),
             "carrier_label": carriers.get(row["carrier"], row["carrier"])} for row in data["rows"]]
    adjustments = [{**item, "text": adjustment_text(item, carriers)} for item in data["adjustments"]]
    return {"data": data, "sectors": sectors, "carriers": by_carrier, "factors": factors, "rows": rows,
            "adjustments": adjustments, "options": data["options"]}
