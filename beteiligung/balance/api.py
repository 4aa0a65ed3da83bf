"""The balance and the scenario in the JSON API.

Only published balances with a stored result are public. The detail of a balance is its stored
result with exactly the keys of `python -m analyse balance --json` (analyse.bisko.BalanceResult.to_dict),
plus `computed_at` and `note`; the scenario is services.scenario_dict() of the published settings.
A scenario that is not published (or has no published base balance) answers 404 with the German
reason: for the public the resource does not exist yet; nothing the client sent conflicts.
"""
from flask import jsonify, url_for
from flask_babel import gettext as _

from ..access import allow
from ..api import bp
from ..api.helpers import paginate
from ..api.openapi import add_schema, document
from ..errors import api_error
from ..models import isoformat
from ..roles import EVERYONE
from . import services, views
from .models import SECTOR_LABELS

TAG = "Bilanz"

# --- OpenAPI schemas ------------------------------------------------------------------------------

_number = {"type": "number"}
_number_or_null = {"type": ["number", "null"]}
_integer_or_null = {"type": ["integer", "null"]}
_sector = {"type": "string", "enum": list(SECTOR_LABELS)}
_carrier = {"type": "string", "description": "Code des Energieträgers, z. B. strom"}


def _map(values, description):
    return {"type": "object", "additionalProperties": values, "description": description}


_by_sector = _map(_number, "Sektor-Code → Wert; alle fünf BISKO-Sektoren")
_by_carrier = _map(_number, "Energieträger-Code → Wert; die Energieträger der Bilanz")
_figures = {
    "year": {"type": "integer", "description": "Bilanzjahr"},
    "population": {"type": "integer", "description": "Einwohnerzahl im Bilanzjahr"},
    "total_t_co2e": {**_number, "description": "Treibhausgasemissionen in t CO2e"},
    "per_capita_t_co2e": {**_number, "description": "t CO2e je Einwohnerin und Einwohner"},
    "final_energy_mwh": {**_number, "description": "Endenergie in MWh (nach den Bilanzregeln)"},
    "quality_index": {**_number_or_null,
                      "description": "Datengüte 0–1: nach Endenergie gewichtet, A = 1, B = 0,5, C = 0,25, "
                                     "D und ohne Angabe = 0"},
}
_FIGURE_KEYS = list(_figures)

add_schema("BalanceSummary", {
    "type": "object",
    "required": [*_FIGURE_KEYS, "url", "html_url"],
    "properties": {
        **_figures,
        "url": {"type": "string", "format": "uri", "description": "Diese Bilanz in der API"},
        "html_url": {"type": "string", "format": "uri", "description": "Die öffentliche Seite der Bilanz"},
    },
})

add_schema("Balance", {
    "type": "object",
    "description": "Das gespeicherte Ergebnis, mit denselben Schlüsseln wie `python -m analyse balance --json`, "
                   "dazu computed_at und note.",
    "required": [*_FIGURE_KEYS, "by_sector", "by_carrier", "rows", "by_sector_mwh", "by_carrier_mwh",
                 "quality_ungraded_mwh", "factors_used", "options", "adjustments", "computed_at", "note"],
    "properties": {
        **_figures,
        "by_sector": {**_by_sector, "description": "t CO2e je Sektor"},
        "by_carrier": {**_by_carrier, "description": "t CO2e je Energieträger"},
        "rows": {"type": "array", "description": "Eine Zeile je Sektor und Energieträger", "items": {
            "type": "object",
            "required": ["sector", "carrier", "mwh", "t_co2e", "reported_mwh", "factor_t_co2e_per_mwh", "quality"],
            "properties": {
                "sector": _sector, "carrier": _carrier,
                "mwh": {**_number, "description": "Endenergie nach den Bilanzregeln"},
                "t_co2e": _number,
                "reported_mwh": {**_number, "description": "Endenergie wie gemeldet"},
                "factor_t_co2e_per_mwh": {**_number, "description": "bei umweltwaerme: Strom-Faktor / JAZ"},
                "quality": {"type": ["string", "null"], "enum": ["A", "B", "C", "D", None]},
            }}},
        "by_sector_mwh": {**_by_sector, "description": "MWh je Sektor"},
        "by_carrier_mwh": {**_by_carrier, "description": "MWh je Energieträger"},
        "quality_ungraded_mwh": {**_number, "description": "Endenergie ohne Angabe zur Datengüte (zählt wie D)"},
        "factors_used": _map({"type": "object", "required": ["t_co2e_per_mwh", "valid_from", "source"],
                              "properties": {"t_co2e_per_mwh": _number, "valid_from": _integer_or_null,
                                             "source": {"type": "string"}}},
                             "Energieträger-Code → der verwendete Emissionsfaktor (t CO2e/MWh), gültig ab, Quelle"),
        "options": {"type": "object", "required": ["heat_pump_apf", "heat_pump_power_in_electricity",
                                                   "municipal_in_ghd"],
                    "properties": {
                        "heat_pump_apf": {**_number, "description": "Jahresarbeitszahl der Wärmepumpen"},
                        "heat_pump_power_in_electricity": {
                            "type": "boolean", "description": "Wärmepumpenstrom aus dem Strom herausgerechnet"},
                        "municipal_in_ghd": {
                            "type": "boolean", "description": "Kommunale Einrichtungen aus GHD herausgerechnet"}}},
        "adjustments": {"type": "array", "description": "Herausgerechnete Endenergie", "items": {
            "type": "object", "required": ["sector", "carrier", "mwh", "reason"],
            "properties": {"sector": _sector, "carrier": _carrier, "mwh": _number,
                           "reason": {"type": "string", "enum": ["municipal", "heat_pump"]}}}},
        "computed_at": {"type": ["string", "null"], "format": "date-time"},
        "note": {"type": "string", "description": "Quellen und Anmerkungen (Text)"},
    },
})

_scenario_year = {
    "type": "object",
    "properties": {
        "year": {"type": "integer"},
        "population": _number_or_null,
        "electricity_t_co2e_per_mwh": _number_or_null,
        "trend_t_co2e": _number, "trend_mwh": _number,
        "scenario_t_co2e": _number, "scenario_mwh": _number,
        "savings_t_co2e": {**_number, "description": "Einsparung der Maßnahmen in diesem Jahr"},
        "target_t_co2e": {**_number, "description": "Zielpfad: linear vom Basisjahr auf 0 im Zieljahr"},
        "trend_by_sector_t_co2e": _by_sector,
        "scenario_by_sector_t_co2e": _by_sector,
        "per_capita_trend_t_co2e": _number_or_null,
        "per_capita_scenario_t_co2e": _number_or_null,
    },
}
add_schema("Scenario", {
    "type": "object",
    "required": ["base_year", "target_year", "base_t_co2e", "trend_target_year_t_co2e", "trend_reduction_share",
                 "residual_t_co2e", "reduction_share", "assumptions", "years", "compensation", "measures",
                 "measures_left_out", "caps"],
    "properties": {
        "base_year": {"type": "integer"},
        "target_year": {"type": "integer"},
        "base_t_co2e": {**_number, "description": "Emissionen des Basisjahres (Bilanz)"},
        "trend_target_year_t_co2e": {**_number, "description": "Trend im Zieljahr"},
        "trend_reduction_share": {**_number_or_null, "description": "Minderung des Trends bis zum Zieljahr (0–1)"},
        "residual_t_co2e": {**_number, "description": "Restemissionen des Szenarios im Zieljahr"},
        "reduction_share": {**_number_or_null, "description": "Minderung des Szenarios bis zum Zieljahr (0–1)"},
        "assumptions": {"type": "object", "properties": {
            "annual_change_percent": _map(_number_or_null, "Sektor-Code → Änderung der Endenergie in % pro Jahr"),
            "electricity_factor_path": _map(_number_or_null, "Jahr → Strom-Faktor in t CO2e/MWh"),
            "population_path": _map(_number_or_null, "Jahr → Einwohnerzahl"),
            "note": {"type": "string"}}},
        "years": {"type": "array", "items": _scenario_year},
        "compensation": {"type": "object", "properties": {
            "residual_t_co2e": _number, "covered_t_co2e": _number, "total_cost_eur": _number,
            "gap_t_co2e": {**_number, "description": "nicht gedeckte Restemissionen"},
            "uses": {"type": "array", "description": "günstigste zuerst, jede bis zu ihrer Kapazität", "items": {
                "type": "object", "properties": {
                    "name": {"type": "string"}, "t_co2e": _number, "cost_eur": _number,
                    "capacity_t_per_year": _number, "cost_eur_per_t": _number}}}}},
        "measures": {"type": "array", "items": {"type": "object", "properties": {
            "number": {"type": "string"}, "title": {"type": "string"}, "field_of_action": {"type": "string"},
            "sector": {"type": ["string", "null"], "description": (
                "BISKO-Sektor; stationaer: auf die stationären Sektoren verteilt; null: auf alle Sektoren verteilt")},
            "start_year": {"type": "integer"}, "ramp_up_years": {"type": "integer"},
            "t_co2e_per_year": _number, "mwh_per_year": _number,
            "url": {"type": "string", "format": "uri"}}}},
        "measures_left_out": {"type": "array", "items": {"type": "object", "properties": {
            "number": {"type": "string"}, "title": {"type": "string"}, "reason": {"type": "string"}}}},
        "caps": {"type": "array", "description": "Einsparungen, die über den Trend eines Sektors hinausgingen",
                 "items": {"type": "object"}},
    },
})

YEAR_PARAMETER = {"name": "year", "in": "path", "required": True, "schema": {"type": "integer"},
                  "description": "Bilanzjahr"}


# --- JSON -------------------------------------------------------------------------------------------

def balance_summary_json(balance):
    result = balance.result
    data = {key: result[key] for key in _FIGURE_KEYS}
    data["url"] = url_for("api.balance", year=balance.year, _external=True)
    data["html_url"] = url_for("balance.year", year=balance.year, _external=True)
    return data


def balance_json(balance):
    """The stored result (the CLI's JSON) plus computed_at and note."""
    data = balance.result
    data["computed_at"] = isoformat(balance.computed_at)
    data["note"] = balance.note
    return data


# --- routes -------------------------------------------------------------------------------------------

@bp.route("/balances")
@allow(EVERYONE)
@document("get", "/balances", summary="Die veröffentlichten Energie- und Treibhausgasbilanzen, neueste zuerst",
          tag=TAG, response="BalanceSummary", paginated=True, auth=False)
def balances():
    return jsonify(paginate(views.public_balances_query(), balance_summary_json))


@bp.route("/balances/<int:year>")
@allow(EVERYONE)
@document("get", "/balances/{year}", summary="Eine veröffentlichte Bilanz (wie `python -m analyse balance --json`)",
          tag=TAG, response="Balance", auth=False, parameters=[YEAR_PARAMETER],
          responses={404: "Für dieses Jahr gibt es keine veröffentlichte Bilanz"})
def balance(year):
    found = views.public_balance(year)
    if found is None:
        return api_error(404, _("Für das Jahr %(year)s gibt es keine veröffentlichte Bilanz.", year=year))
    return jsonify(balance_json(found))


@bp.route("/scenario")
@allow(EVERYONE)
@document("get", "/scenario", summary="Trend, Klimaneutralitäts-Szenario und Kompensation bis zum Zieljahr",
          tag=TAG, response="Scenario", auth=False,
          responses={404: "Die Szenarien sind nicht veröffentlicht oder es fehlt eine veröffentlichte Bilanz "
                          "für das Basisjahr (Grund in message)"})
def scenario():
    try:
        result = views.build_public_scenario()
    except services.ScenarioUnavailable as error:
        return api_error(404, str(error))
    return jsonify(services.scenario_dict(result))
