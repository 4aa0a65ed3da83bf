"""The main navigation lists the areas that are installed, each for those who may open it;
a route without an access rule is refused for everybody."""
import pytest
from flask import Blueprint

from beteiligung import create_app
from beteiligung.access import allow
from beteiligung.config import TestingConfig
from beteiligung.roles import WORKING_GROUP

from .conftest import login_as


@pytest.fixture
def probe_app(app):
    """The app plus an area with a route that has no access rule."""
    probe = create_app(TestingConfig(app.config["SQLALCHEMY_DATABASE_URI"]))
    area = Blueprint("probe", __name__, url_prefix="/probe")

    @area.route("/")
    @allow(WORKING_GROUP)
    def index():
        return "Probe"

    @area.route("/ohne-regel")
    def unguarded():
        return "sollte niemand sehen"

    probe.register_blueprint(area)
    return probe


def test_installed_areas_appear_in_order_for_their_audience(client, app, users):
    anonymous = client.get("/").get_data(as_text=True)
    order = ['href="/ideen/"', 'href="/massnahmen/"', 'href="/bilanz/"', 'href="/termine/"', 'href="/arbeitskreis/"']
    positions = [anonymous.index(link) for link in order]
    assert positions == sorted(positions)
    assert 'href="/verwaltung/"' not in anonymous
    staff = login_as(app.test_client(), users["staff"]).get("/").get_data(as_text=True)
    assert 'href="/verwaltung/"' in staff


def test_route_without_access_rule_is_refused_for_everybody(probe_app, users):
    for role in ["citizen", "member", "staff", "admin"]:
        client = login_as(probe_app.test_client(), users[role])
        assert client.get("/probe/ohne-regel").status_code == 403
        assert client.get("/probe/").status_code == (200 if role != "citizen" else 403)
    assert probe_app.test_client().get("/probe/ohne-regel").status_code == 403
