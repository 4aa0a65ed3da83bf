"""The main navigation lists the areas that are installed, each for those who may open it;
a route without an access rule is refused for everybody."""
import pytest
from flask import Blueprint

from beteiligung import create_app
from beteiligung.access import allow
from beteiligung.config import TestingConfig
from beteiligung.roles import EVERYONE, WORKING_GROUP

from .conftest import login_as


@pytest.fixture
def probe_app(app):
    """The app plus two areas of later issues (calendar, working group), to see how the navigation picks them up."""
    probe = create_app(TestingConfig(app.config["SQLALCHEMY_DATABASE_URI"]))
    calendar = Blueprint("calendar", __name__, url_prefix="/termine")
    group = Blueprint("working_group", __name__, url_prefix="/arbeitskreis")

    @calendar.route("/")
    @allow(EVERYONE)
    def index():
        return "Termine"

    @group.route("/")
    @allow(WORKING_GROUP)
    def index():  # noqa: F811
        return "Arbeitskreis"

    @group.route("/ohne-regel")
    def unguarded():
        return "sollte niemand sehen"

    probe.register_blueprint(calendar)
    probe.register_blueprint(group)
    return probe


def test_installed_areas_appear_for_their_audience(probe_app, users):
    anonymous = probe_app.test_client().get("/").get_data(as_text=True)
    assert 'href="/termine/"' in anonymous and 'href="/arbeitskreis/"' not in anonymous
    member = login_as(probe_app.test_client(), users["member"]).get("/").get_data(as_text=True)
    assert 'href="/termine/"' in member and 'href="/arbeitskreis/"' in member
    assert (member.index('href="/ideen/"') < member.index('href="/massnahmen/"') < member.index('href="/termine/"')
            < member.index('href="/arbeitskreis/"'))


def test_route_without_access_rule_is_refused_for_everybody(probe_app, users):
    for role in ["citizen", "member", "staff", "admin"]:
        client = login_as(probe_app.test_client(), users[role])
        assert client.get("/arbeitskreis/ohne-regel").status_code == 403
    assert probe_app.test_client().get("/arbeitskreis/ohne-regel").status_code == 403
