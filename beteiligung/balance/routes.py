"""Public pages of the balance and the scenarios: the newest or a given published balance year with
its CSV downloads, and the pathway to the target year with the compensation of the residual."""
from flask import abort, render_template

from ..access import allow
from ..roles import EVERYONE
from . import bp, views
from .services import ScenarioUnavailable


def _render_balance(balance):
    view = views.balance_view(balance, views.public_years())
    return render_template("balance/year.html", view=view, downloads=views.download_names(balance.year))


@bp.get("/")
@allow(EVERYONE)
def index():
    balance = views.public_balance()
    if balance is None:
        return render_template("balance/empty.html")
    return _render_balance(balance)


def _public_or_404(year):
    balance = views.public_balance(year)
    if balance is None:
        abort(404)
    return balance


@bp.get("/<int:year>")
@allow(EVERYONE)
def year(year):
    return _render_balance(_public_or_404(year))


@bp.get("/<int:year>/bilanz.csv")
@allow(EVERYONE)
def year_csv(year):
    balance = _public_or_404(year)
    return views.csv_response(views.balance_csv_rows(balance), views.download_names(year)["balance"])


@bp.get("/<int:year>/eingaben.csv")
@allow(EVERYONE)
def year_entries_csv(year):
    balance = _public_or_404(year)
    return views.csv_response(views.entries_csv_rows(balance), views.download_names(year)["entries"])


@bp.get("/<int:year>/faktoren.csv")
@allow(EVERYONE)
def year_factors_csv(year):
    balance = _public_or_404(year)
    return views.csv_response(views.factors_csv_rows(balance), views.download_names(year)["factors"])


@bp.get("/szenario")
@allow(EVERYONE)
def scenario():
    try:
        result = views.build_public_scenario()
    except ScenarioUnavailable as error:
        return render_template("balance/scenario_unavailable.html", message=str(error),
                               years=views.public_years())
    return render_template("balance/scenario.html", view=views.scenario_view(result))


@bp.get("/szenario.csv")
@allow(EVERYONE)
def scenario_csv():
    try:
        result = views.build_public_scenario()
    except ScenarioUnavailable:
        abort(404)
    return views.csv_response(views.scenario_csv_rows(result), "szenario.csv")
