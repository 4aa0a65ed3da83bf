"""Every registered route, for every role and anonymous, answers as its access rule says.

A new route without `@allow(...)` fails here (and is refused at run time), so no
route can be added without a permission decision.
"""
import os

import pytest

from beteiligung import create_app
from beteiligung.roles import ADMIN, EVERYONE, SIGNED_IN, STAFF, WORKING_GROUP
from beteiligung.config import TestingConfig

from .conftest import ROLES, csrf_token, login_as

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _routes():
    app = create_app(TestingConfig(os.environ.get("TEST_DATABASE_URL") or "sqlite://"))
    routes = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - IGNORED_METHODS):
            routes.append((rule.endpoint, rule.rule, method))
    return sorted(routes)


ROUTES = _routes()


def test_every_route_has_an_access_rule(app):
    from beteiligung.access import audience_of

    with app.test_request_context():
        missing = sorted({endpoint for endpoint, _rule, _method in ROUTES if audience_of(endpoint) is None})
    assert missing == [], f"routes without @allow(...): {missing}"


def test_audiences_are_the_known_ones(app):
    from beteiligung.access import audience_of

    known = {EVERYONE, SIGNED_IN, WORKING_GROUP, STAFF, ADMIN}
    with app.test_request_context():
        unknown = sorted({e for e, _r, _m in ROUTES if audience_of(e) not in known})
    assert unknown == []


@pytest.fixture
def objects(app, users, make_idea):
    """Real objects for the URL parameters of the routes."""
    from beteiligung.auth.models import User
    from beteiligung.auth.services import create_api_token
    from beteiligung.extensions import db
    from beteiligung.mail.services import queue_mail

    with app.test_request_context():
        admin = db.session.get(User, users["admin"].id)
        token, _secret = create_api_token(admin, "Matrix")
        message = queue_mail("x@example.org", "Betreff", "mail/email_change_notice.txt", name="X")
        db.session.commit()
        idea_id = make_idea(author=users["citizen"])
        from beteiligung.ideas.models import Comment

        comment = Comment(idea_id=idea_id, author_id=users["member"].id, text="Ein Kommentar")
        db.session.add(comment)
        from beteiligung.ideas.models import AnswerTemplate, District, Sector

        answer_template = AnswerTemplate(title="Matrix-Vorlage", status="out_of_scope", text="Nicht zuständig.")
        db.session.add(answer_template)
        from beteiligung.analysis.models import AnalysisCluster, AnalysisItem, AnalysisRun, DuplicateGroup
        from beteiligung.measures.models import Measure

        run = AnalysisRun(status="done", code_version="test", idea_count=1, cluster_count=1)
        db.session.add(run)
        db.session.flush()
        db.session.add(AnalysisCluster(run_id=run.id, number=0, label="Matrix", size=1))
        db.session.add(AnalysisItem(run_id=run.id, idea_id=idea_id, cluster_number=0))
        group = DuplicateGroup(run_id=run.id, idea_ids=[idea_id], score=0.9)
        measure = Measure(number="M-1.1", title="Matrix-Maßnahme", sector_id=db.session.scalar(
            db.select(db.func.min(Sector.id))))
        db.session.add_all([group, measure])
        from beteiligung.balance.models import Balance, CompensationOption, EmissionFactor, EnergyCarrier
        from beteiligung.balance.reference import ensure_reference_data

        ensure_reference_data()
        option = CompensationOption(name="Moorvernässung", capacity_t_per_year=1000, cost_eur_per_t=80)
        db.session.add_all([Balance(year=2022, population=110000), option])
        from datetime import date, timedelta

        from beteiligung.events.models import Event, Registration
        from beteiligung.meetings.models import (ActionItem, AgendaItem, AgendaMaterial, Body, BodyMember, Meeting,
                                                 MeetingSeries, new_uid)
        from beteiligung.models import utcnow

        body = Body(slug="arbeitskreis", name="Arbeitskreis Klimaschutz")
        db.session.add(body)
        db.session.flush()
        member = BodyMember(body_id=body.id, user_id=users["member"].id, name="M. Mitglied", from_date=date(2025, 1, 1))
        series = MeetingSeries(body_id=body.id, title="Sitzung", rrule="FREQ=MONTHLY;BYDAY=2TU",
                               first_start_local=utcnow().replace(tzinfo=None, microsecond=0))
        start = utcnow() + timedelta(days=20)
        meeting = Meeting(body_id=body.id, title="Sitzung", starts_at=start, ends_at=start + timedelta(hours=2),
                          uid=new_uid("meeting"))
        db.session.add_all([member, series, meeting])
        db.session.flush()
        item = AgendaItem(meeting_id=meeting.id, title="Bericht", position=1)
        db.session.add(item)
        db.session.flush()
        material = AgendaMaterial(agenda_item_id=item.id, title="Folien", url="https://example.org/folien.pdf")
        action = ActionItem(body_id=body.id, meeting_id=meeting.id, agenda_item_id=item.id, title="Aufgabe")
        event = Event(title="Werkstatt Wärme", starts_at=start, ends_at=start + timedelta(hours=3), capacity=20,
                      uid=new_uid("event"))
        db.session.add_all([material, action, event])
        db.session.flush()
        registration = Registration(event_id=event.id, user_id=users["citizen"].id)
        db.session.add(registration)
        db.session.commit()
        return {
            "run_id": run.id,
            "number": 0,
            "group_id": group.id,
            "measure_id": measure.id,
            "export_id": 1,
            "template_id": answer_template.id,
            "sector_id": db.session.scalar(db.select(db.func.min(Sector.id))),
            "district_id": db.session.scalar(db.select(db.func.min(District.id))),
            "idea_id": idea_id,
            "comment_id": comment.id,
            "fmt": "csv",
            "user_id": users["citizen"].id,
            "token_id": token.id,
            "message_id": message.id,
            "token": "ungueltiger-link",
            "filename": "css/site.css",
            "year": 2022,
            "factor_id": db.session.scalar(db.select(db.func.min(EmissionFactor.id))),
            "carrier_id": db.session.scalar(db.select(db.func.min(EnergyCarrier.id))),
            "option_id": option.id,
            "body_id": body.id,
            "slug": body.slug,
            "member_id": member.id,
            "series_id": series.id,
            "meeting_id": meeting.id,
            "item_id": item.id,
            "material_id": material.id,
            "action_id": action.id,
            "event_id": event.id,
            "registration_id": registration.id,
        }


def _url(rule, objects):
    import re

    def value(match):
        name = match.group(1).split(":")[-1]
        assert name in objects, f"add a sample value for <{name}> to the objects fixture"
        return str(objects[name])

    return re.sub(r"<([^>]+)>", value, rule)


@pytest.mark.parametrize("endpoint, rule, method", ROUTES, ids=[f"{m} {r}" for _e, r, m in ROUTES])
def test_route_answers_by_role(app, users, objects, endpoint, rule, method):
    from beteiligung.access import audience_of

    with app.test_request_context():
        audience = audience_of(endpoint)
    url = _url(rule, objects)
    is_api = rule.startswith("/api/")
    for role in ROLES:
        client = login_as(app.test_client(), users.get(role))
        if method == "GET":
            response = client.get(url)
        else:
            response = client.open(url, method=method, data={"csrf_token": csrf_token(client)})
        status = response.status_code
        location = response.headers.get("Location", "")
        where = f"{method} {url} as {role}: {status}"
        assert status < 500, where
        if role in audience:
            assert status not in (401, 403), where
            assert "/anmelden?next=" not in location, where
        elif role == "anonymous":
            if is_api:
                assert status == 401 and response.is_json, where
            else:
                assert status == 302 and "/anmelden?next=" in location, where
        else:
            assert status == 403, where
