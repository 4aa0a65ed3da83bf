"""The bodies' pages: who sees what (public, members, staff), proposing agenda items, the
agenda with running times, minutes, materials, and the staff pages from series to minutes."""
import io
import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from beteiligung.audit.models import AuditEntry
from beteiligung.auth.models import User
from beteiligung.extensions import db
from beteiligung.meetings import services
from beteiligung.meetings.models import (ActionItem, AgendaItem, AgendaMaterial, Attendance, Body, BodyMember,
                                         Meeting, MeetingSeries)

from .conftest import login_as, post_form
from .test_meetings_services import DOCX, PDF, PNG

XSS = '<script>alert("x")</script>'


@pytest.fixture
def staff_do(app, users):
    def run(function):
        with app.test_request_context():
            result = function(db.session.get(User, users["staff"].id))
            db.session.commit()
            return result

    return run


def _local_start(days, hour=17):
    """A start `days` from today at `hour` o'clock in Jena, as UTC."""
    day = services.today_local() + timedelta(days=days)
    return services.to_utc(datetime(day.year, day.month, day.day, hour, 0))


@pytest.fixture
def setup(app, staff_do, users):
    """A public and an internal body, both with users['member'] as member, and a meeting each in 20 days."""

    def run(staff):
        made = {}
        for name, public in (("Arbeitskreis Klimaschutz", True), ("Lenkungskreis", False)):
            body = services.save_body(None, staff, name=name, slug="", kind="working_group",
                                      description="Wir beraten den **Klima-Aktionsplan**.", public=public,
                                      agenda_lead_days=7, proposal_deadline_days=10)
            services.add_member(body, staff, name="Mara Mitglied", organisation="Stadtwerke Jena", role="Vorsitz",
                                from_date=date(2024, 1, 1), email=users["member"].email)
            services.add_member(body, staff, name="Ehemalige Person", organisation="Altverein",
                                from_date=date(2020, 1, 1), to_date=date(2021, 1, 1))
            start = _local_start(20)
            meeting = services.create_meeting(body, staff, title=f"Sitzung {name}", starts_at=start,
                                              ends_at=start + timedelta(hours=2), place="Rathaus, Saal 2",
                                              online_url="https://konferenz.example.org/geheim")
            made[name] = (body.id, body.slug, meeting.id)
        return made

    made = staff_do(run)
    return {"public": made["Arbeitskreis Klimaschutz"], "internal": made["Lenkungskreis"]}


def second_tuesday(year, month):
    first = date(year, month, 1)
    return first + timedelta(days=(1 - first.weekday()) % 7 + 7)


def page(client, path, status=200):
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code, response.get_data(as_text=True)[:300])
    return response.get_data(as_text=True)


# --- who sees what --------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["anonymous", "citizen"])
def test_outsiders_get_404_for_an_internal_body(app, client, users, setup, role):
    login_as(client, users.get(role))
    _body_id, slug, meeting_id = setup["internal"]
    page(client, f"/arbeitskreis/{slug}/", 404)
    page(client, f"/arbeitskreis/sitzung/{meeting_id}", 404)
    assert "Lenkungskreis" not in page(client, "/arbeitskreis/")
    assert "Arbeitskreis Klimaschutz" in page(client, "/arbeitskreis/")


def test_a_member_role_outside_the_body_is_an_outsider_too(app, client, make_user, setup):
    login_as(client, make_user(role="member"))
    page(client, f"/arbeitskreis/{setup['internal'][1]}/", 404)


@pytest.mark.parametrize("role", ["member", "staff", "admin"])
def test_members_and_staff_see_the_internal_body(app, client, users, setup, role):
    login_as(client, users[role])
    _body_id, slug, meeting_id = setup["internal"]
    html = page(client, f"/arbeitskreis/{slug}/")
    assert "Lenkungskreis" in html and "intern" in html
    assert "Lenkungskreis" in page(client, "/arbeitskreis/")
    assert "https://konferenz.example.org/geheim" in page(client, f"/arbeitskreis/sitzung/{meeting_id}")


def test_the_body_page_lists_current_members_and_dates(app, client, setup):
    html = page(client, f"/arbeitskreis/{setup['public'][1]}/")
    assert "<strong>Klima-Aktionsplan</strong>" in html
    assert "Mara Mitglied" in html and "Stadtwerke Jena" in html and "Vorsitz" in html
    assert "Ehemalige Person" not in html
    assert f'href="/arbeitskreis/sitzung/{setup["public"][2]}"' in html
    assert "Rathaus, Saal 2" in html


def test_online_link_only_for_members_and_staff(app, client, users, setup):
    path = f"/arbeitskreis/sitzung/{setup['public'][2]}"
    assert "konferenz.example.org" not in page(client, path)
    login_as(client, users["citizen"])
    assert "konferenz.example.org" not in page(client, path)
    login_as(client, users["member"])
    assert "https://konferenz.example.org/geheim" in page(client, path)


def test_the_member_feed_address_is_shown_only_to_members_when_the_feed_exists(app, client, users, setup):
    with app.app_context():
        token = db.session.get(Body, setup["public"][0]).feed_token
    path = f"/arbeitskreis/{setup['public'][1]}/"
    assert token not in page(client, path)
    login_as(client, users["member"])
    html = page(client, path)
    assert (token in html) == ("calendar.body_feed" in app.view_functions)


def test_staff_pages_are_refused_to_members_and_citizens(app, client, users, setup):
    body_id, _slug, meeting_id = setup["public"]
    for role in ("member", "citizen"):
        login_as(client, users[role])
        for path in ("/verwaltung/gremien/", f"/verwaltung/gremien/{body_id}/",
                     f"/verwaltung/gremien/sitzung/{meeting_id}/",
                     f"/verwaltung/gremien/sitzung/{meeting_id}/protokoll"):
            assert client.get(path).status_code == 403, (role, path)
        response = post_form(client, f"/verwaltung/gremien/sitzung/{meeting_id}/absagen", {"reason": "weg"})
        assert response.status_code == 403
    with app.app_context():
        assert not db.session.get(Meeting, meeting_id).cancelled


# --- proposing items ----------------------------------------------------------------------------

def test_a_citizen_cannot_propose(app, client, users, setup):
    meeting_id = setup["public"][2]
    login_as(client, users["citizen"])
    html = page(client, f"/arbeitskreis/sitzung/{meeting_id}")
    assert "Einen Tagesordnungspunkt vorschlagen" not in html
    response = post_form(client, f"/arbeitskreis/sitzung/{meeting_id}/vorschlag",
                         {"title": "Von außen", "duration_minutes": "15"}, follow_redirects=True)
    assert "Nur Mitglieder des Gremiums" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(AgendaItem.id))) == 0


def test_anonymous_visitors_are_sent_to_the_login_to_propose(app, client, setup):
    response = post_form(client, f"/arbeitskreis/sitzung/{setup['public'][2]}/vorschlag", {"title": "x"})
    assert response.status_code == 302 and "/anmelden" in response.headers["Location"]


def test_a_member_proposes_until_the_deadline(app, client, users, setup):
    meeting_id = setup["public"][2]
    login_as(client, users["member"])
    html = page(client, f"/arbeitskreis/sitzung/{meeting_id}")
    assert "Einen Tagesordnungspunkt vorschlagen" in html and "Vorschläge sind bis" in html
    deadline = services.to_local(_local_start(10))
    assert deadline.strftime("%d.%m.%Y, 17:00") in html
    response = post_form(client, f"/arbeitskreis/sitzung/{meeting_id}/vorschlag",
                         {"title": "Kältenetz Lobeda", "description": "Bericht der Stadtwerke",
                          "duration_minutes": "20"},
                         follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Ihr Vorschlag „Kältenetz Lobeda“ ist eingegangen" in html
    assert "Ihre Vorschläge" in html and "wartet auf die Entscheidung" in html
    with app.app_context():
        item = db.session.scalar(select(AgendaItem))
        assert (item.title, item.status, item.duration_minutes, item.proposed_by_id) == (
            "Kältenetz Lobeda", "proposed", 20, users["member"].id)
    # Others do not see the proposal before it is accepted and the agenda published.
    login_as(client, users["citizen"])
    assert "Kältenetz Lobeda" not in page(client, f"/arbeitskreis/sitzung/{meeting_id}")


def test_proposal_form_problems_are_shown_and_nothing_is_stored(app, client, users, setup):
    meeting_id = setup["public"][2]
    login_as(client, users["member"])
    response = post_form(client, f"/arbeitskreis/sitzung/{meeting_id}/vorschlag",
                         {"title": "", "duration_minutes": "viel"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Bitte korrigieren Sie 2 Angaben." in html
    with app.app_context():
        assert db.session.scalar(select(func.count(AgendaItem.id))) == 0


def test_after_the_deadline_members_get_a_clear_message(app, client, users, staff_do, setup):
    def run(staff):
        body = db.session.get(Body, setup["public"][0])
        start = _local_start(5)
        return services.create_meeting(body, staff, title="Kurzfristig", starts_at=start,
                                       ends_at=start + timedelta(hours=2)).id

    meeting_id = staff_do(run)
    login_as(client, users["member"])
    html = page(client, f"/arbeitskreis/sitzung/{meeting_id}")
    assert "Die Frist für Vorschläge zu dieser Sitzung ist am" in html and "abgelaufen" in html
    assert 'name="title"' not in html
    response = post_form(client, f"/arbeitskreis/sitzung/{meeting_id}/vorschlag",
                         {"title": "Zu spät", "duration_minutes": "10"}, follow_redirects=True)
    assert "abgelaufen" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(AgendaItem.id))) == 0


# --- agenda, minutes and materials on the public page --------------------------------------------

@pytest.fixture
def full_meeting(app, staff_do, users, setup, idea_setup):
    """The public meeting with an agenda (published or not per test), a material and minutes."""

    def run(staff):
        meeting = db.session.get(Meeting, setup["public"][2])
        first = services.add_item(meeting, staff, title="Begrüßung", presenter="Bürgermeisterin", duration_minutes=10)
        second = services.add_item(meeting, staff, title="Wärmeplanung", duration_minutes=25,
                                   description="Stand der **Wärmeplanung**")
        services.add_link_material(second, staff, title="Folien", url="https://example.org/folien.pdf")
        services.add_file_material(second, staff, title="Bericht", filename="Bericht.pdf", data=PDF)
        return meeting.id, first.id, second.id

    return staff_do(run)


def test_the_agenda_appears_with_running_times_once_published(app, client, staff_do, full_meeting):
    meeting_id = full_meeting[0]
    html = page(client, f"/arbeitskreis/sitzung/{meeting_id}")
    assert "Wärmeplanung" not in html and "sobald sie feststeht" in html
    staff_do(lambda staff: services.publish_agenda(db.session.get(Meeting, meeting_id), staff))
    html = page(client, f"/arbeitskreis/sitzung/{meeting_id}")
    assert 'id="top-1"' in html and 'id="top-2"' in html
    assert "TOP 2: Wärmeplanung" in " ".join(re.sub(r"<[^>]+>", " ", html).split())
    agenda = html.split('id="tagesordnung-titel"')[1].split("</section>")[0]
    # TOP 1 from 17:00 to 17:10, TOP 2 from 17:10 for 25 minutes, planned end 17:35.
    assert re.findall(r">(\d\d:\d\d)</time>", agenda) == ["17:00", "17:10", "17:10", "17:35", "17:35"]
    assert "<strong>Wärmeplanung</strong>" in html
    assert "https://example.org/folien.pdf" in html
    assert "Offene Aufgaben aus früheren Sitzungen" not in html


def test_materials_are_downloads_with_safe_headers_and_visible_as_their_item(app, client, users, staff_do,
                                                                              full_meeting):
    meeting_id = full_meeting[0]
    with app.app_context():
        material_id = db.session.scalar(select(AgendaMaterial.id).where(AgendaMaterial.filename == "Bericht.pdf"))
    assert client.get(f"/arbeitskreis/material/{material_id}").status_code == 404  # agenda not published
    login_as(client, users["staff"])
    assert client.get(f"/arbeitskreis/material/{material_id}").status_code == 200
    staff_do(lambda staff: services.publish_agenda(db.session.get(Meeting, meeting_id), staff))
    login_as(client, None)
    client.delete_cookie("session")
    response = client.get(f"/arbeitskreis/material/{material_id}")
    assert response.status_code == 200
    assert response.data == PDF
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "Bericht.pdf" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_open_action_items_of_earlier_meetings_show_on_the_next_agenda(app, client, users, staff_do, setup,
                                                                      full_meeting):
    def run(staff):
        body = db.session.get(Body, setup["public"][0])
        start = _local_start(-30)
        earlier = services.create_meeting(body, staff, title="Frühere Sitzung", starts_at=start,
                                          ends_at=start + timedelta(hours=2))
        services.add_action(earlier, staff, title="Förderprogramm prüfen", assignee="Klimaschutzmanagement",
                            due_on=date(2030, 5, 1))
        services.publish_minutes(earlier, staff)
        services.publish_agenda(db.session.get(Meeting, full_meeting[0]), staff)

    staff_do(run)
    html = page(client, f"/arbeitskreis/sitzung/{full_meeting[0]}")
    assert "Offene Aufgaben aus früheren Sitzungen" in html
    assert "Förderprogramm prüfen" in html and "Klimaschutzmanagement" in html and "01.05.2030" in html


def test_published_minutes_show_decisions_and_attendance_counts_or_names(app, client, users, staff_do, setup):
    def run(staff):
        body = db.session.get(Body, setup["public"][0])
        start = _local_start(-2)
        meeting = services.create_meeting(body, staff, title="Vergangene Sitzung", starts_at=start,
                                          ends_at=start + timedelta(hours=2))
        item = services.add_item(meeting, staff, title="Radverkehr", duration_minutes=30)
        db.session.refresh(meeting)
        mara = db.session.scalar(select(BodyMember).where(BodyMember.body_id == body.id,
                                                          BodyMember.name == "Mara Mitglied"))
        services.save_minutes(meeting, staff, items={item.id: ("Lebhafte Aussprache", "Empfehlung an den Rat")},
                              attendance={mara.id: "excused"})
        services.add_action(meeting, staff, title="Zählstellen auswerten", agenda_item=item, member=mara)
        services.publish_agenda(meeting, staff)
        return meeting.id

    meeting_id = staff_do(run)
    html = page(client, f"/arbeitskreis/sitzung/{meeting_id}")
    assert "wird veröffentlicht, sobald es abgestimmt ist" in html and "Empfehlung an den Rat" not in html
    staff_do(lambda staff: services.publish_minutes(db.session.get(Meeting, meeting_id), staff))
    html = page(client, f"/arbeitskreis/sitzung/{meeting_id}")
    assert "Lebhafte Aussprache" in html and "Empfehlung an den Rat" in html
    assert "Zählstellen auswerten" in html
    assert "<strong>1</strong> entschuldigt" in html
    section = html.split('id="protokoll-titel"')[1]
    assert "Mara Mitglied (Stadtwerke Jena)" not in section
    login_as(client, users["member"])
    section = page(client, f"/arbeitskreis/sitzung/{meeting_id}").split('id="protokoll-titel"')[1]
    assert "Mara Mitglied (Stadtwerke Jena)" in section


def test_cancelled_and_moved_dates_are_marked(app, client, staff_do, setup):
    meeting_id = setup["public"][2]

    def move(staff):
        meeting = db.session.get(Meeting, meeting_id)
        services.move_meeting(meeting, meeting.starts_at + timedelta(days=1), meeting.ends_at + timedelta(days=1),
                              staff)

    staff_do(move)
    html = page(client, f"/arbeitskreis/sitzung/{meeting_id}")
    assert "verschoben" in html and "Ursprünglich geplant" in html
    assert "verschoben" in page(client, f"/arbeitskreis/{setup['public'][1]}/")
    staff_do(lambda staff: services.cancel_meeting(db.session.get(Meeting, meeting_id), "Sturmwarnung", staff))
    html = page(client, f"/arbeitskreis/sitzung/{meeting_id}")
    assert "Diese Sitzung ist abgesagt." in html and "Sturmwarnung" in html
    assert "abgesagt" in page(client, f"/arbeitskreis/{setup['public'][1]}/")


def test_user_text_is_escaped_everywhere(app, client, users, staff_do, setup):
    def run(staff):
        body = db.session.get(Body, setup["public"][0])
        services.save_body(body, staff, name=f"AK {XSS}", slug=body.slug, kind="working_group",
                           description=f"Text {XSS} [Link](javascript:alert(1))", public=True, agenda_lead_days=7,
                           proposal_deadline_days=10)
        meeting = db.session.get(Meeting, setup["public"][2])
        services.update_meeting(meeting, staff, title=f"Sitzung {XSS}", place=f"Ort {XSS}", online_url="")
        item = services.add_item(meeting, staff, title=f"TOP {XSS}", presenter=XSS, duration_minutes=5,
                                 description=XSS)
        services.add_link_material(item, staff, title=XSS, url="https://example.org/a")
        services.publish_agenda(meeting, staff)
        services.add_member(body, staff, name=f"Name {XSS}", organisation=XSS, from_date=date(2024, 1, 1))

    staff_do(run)
    body_id, slug, meeting_id = setup["public"]
    paths = ["/arbeitskreis/", f"/arbeitskreis/{slug}/", f"/arbeitskreis/sitzung/{meeting_id}"]
    login_as(client, users["staff"])
    paths += ["/verwaltung/gremien/", f"/verwaltung/gremien/{body_id}/", f"/verwaltung/gremien/sitzung/{meeting_id}/",
              f"/verwaltung/gremien/sitzung/{meeting_id}/protokoll"]
    for path in paths:
        html = page(client, path)
        assert XSS not in html, path
        assert 'href="javascript:' not in html, path
    assert "&lt;script&gt;" in page(client, f"/arbeitskreis/sitzung/{meeting_id}")


# --- staff pages ----------------------------------------------------------------------------------

def test_staff_create_a_body_and_add_a_member_with_an_account(app, client, users):
    login_as(client, users["staff"])
    assert "Gremien und Sitzungen" in page(client, "/verwaltung/gremien/")
    response = post_form(client, "/verwaltung/gremien/neu", {
        "name": "Arbeitskreis Wärme", "slug": "", "kind": "working_group", "description": "Wärmewende",
        "public": "y", "agenda_lead_days": "7", "proposal_deadline_days": "10"})
    assert response.status_code == 302
    with app.app_context():
        body = db.session.scalar(select(Body).where(Body.slug == "arbeitskreis-waerme"))
        body_id = body.id
    response = post_form(client, f"/verwaltung/gremien/{body_id}/mitglieder/neu", {
        "name": "Mara Mitglied", "organisation": "Stadtwerke", "role": "Mitglied", "from_date": "2025-01-01",
        "email": users["member"].email})
    assert response.status_code == 302
    response = post_form(client, f"/verwaltung/gremien/{body_id}/mitglieder/neu", {
        "name": "Ohne Konto", "from_date": "2025-01-01", "to_date": "2024-12-31"})
    assert "Das Ende der Mitgliedschaft darf nicht vor ihrem Beginn liegen." in response.get_data(as_text=True)
    with app.app_context():
        members = db.session.scalars(select(BodyMember).where(BodyMember.body_id == body_id)).all()
        assert [(m.name, m.user_id) for m in members] == [("Mara Mitglied", users["member"].id)]
        assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action.like("body.%"))) == 2


def test_staff_body_form_shows_service_errors_at_the_field(app, client, users, setup):
    login_as(client, users["staff"])
    response = post_form(client, "/verwaltung/gremien/neu", {
        "name": "Arbeitskreis Klimaschutz", "kind": "working_group", "agenda_lead_days": "7",
        "proposal_deadline_days": "10"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Ein Gremium mit diesem Namen gibt es schon." in html


def test_series_builder_previews_then_creates_the_dates(app, client, users, setup):
    body_id = setup["public"][0]
    login_as(client, users["staff"])
    year = services.today_local().year + 1
    form = {"title": "Monatssitzung", "mode": "builder", "frequency": "MONTHLY", "ordinal": "2", "weekday": "TU",
            "interval": "1", "rule": "", "start_date": f"{year}-01-01", "start_time": "17:00",
            "duration_minutes": "120", "place": "Rathaus", "online_url": "", "until": f"{year}-12-31"}
    response = post_form(client, f"/verwaltung/gremien/{body_id}/reihe/neu", {**form, "preview": "1"})
    html = response.get_data(as_text=True)
    assert "Vorschau: die nächsten Termine" in html and "jeden zweiten Dienstag im Monat" in html
    for month in (1, 7):  # winter and summer time
        assert f"Dienstag, {second_tuesday(year, month):%d.%m.%Y}, 17:00" in html
    with app.app_context():
        assert db.session.scalar(select(func.count(MeetingSeries.id))) == 0
    response = post_form(client, f"/verwaltung/gremien/{body_id}/reihe/neu", {**form, "submit": "1"})
    assert response.status_code == 302
    with app.app_context():
        series = db.session.scalar(select(MeetingSeries))
        assert series.rrule == "FREQ=MONTHLY;BYDAY=2TU"
        starts = db.session.scalars(select(Meeting.starts_at).where(Meeting.series_id == series.id)
                                    .order_by(Meeting.starts_at)).all()
        assert len(starts) == 12
        assert {services.to_local(start).strftime("%H:%M") for start in starts} == {"17:00"}
        series_id = series.id
    html = page(client, f"/verwaltung/gremien/reihe/{series_id}")
    assert "Angelegte Termine" in html
    response = post_form(client, f"/verwaltung/gremien/reihe/{series_id}/termine", {"until": f"{year}-12-31"},
                         follow_redirects=True)
    assert "Bis zu diesem Datum sind alle Termine schon angelegt." in response.get_data(as_text=True)


def test_a_bad_expert_rule_gets_a_german_message_and_nothing_is_saved(app, client, users, setup):
    login_as(client, users["staff"])
    response = post_form(client, f"/verwaltung/gremien/{setup['public'][0]}/reihe/neu", {
        "title": "Stündlich", "mode": "expert", "frequency": "MONTHLY", "ordinal": "2", "weekday": "TU",
        "interval": "1", "rule": "FREQ=HOURLY;INTERVAL=2", "start_date": services.today_local().isoformat(),
        "start_time": "17:00", "duration_minutes": "60",
        "until": (services.today_local() + timedelta(days=60)).isoformat(), "submit": "1"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Erlaubt sind tägliche, wöchentliche, monatliche und jährliche Wiederholungen" in html
    assert 'aria-invalid="true"' in html
    with app.app_context():
        assert db.session.scalar(select(func.count(MeetingSeries.id))) == 0


def test_staff_move_cancel_and_restore_a_date(app, client, users, setup):
    meeting_id = setup["public"][2]
    login_as(client, users["staff"])
    html = page(client, f"/verwaltung/gremien/sitzung/{meeting_id}/")
    assert "Termin ändern" in html
    new_day = services.today_local() + timedelta(days=22)
    response = post_form(client, f"/verwaltung/gremien/sitzung/{meeting_id}/verschieben", {
        "date": new_day.isoformat(), "start_time": "18:00", "end_time": "17:00"})
    assert "Das Ende muss nach dem Beginn liegen." in response.get_data(as_text=True)
    response = post_form(client, f"/verwaltung/gremien/sitzung/{meeting_id}/verschieben", {
        "date": new_day.isoformat(), "start_time": "18:00", "end_time": "20:00"})
    assert response.status_code == 302
    response = post_form(client, f"/verwaltung/gremien/sitzung/{meeting_id}/absagen", {"reason": ""})
    assert response.status_code == 200 and "Bitte füllen Sie dieses Feld aus." in response.get_data(as_text=True)
    post_form(client, f"/verwaltung/gremien/sitzung/{meeting_id}/absagen", {"reason": "Raum nicht verfügbar"})
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        assert meeting.cancelled and meeting.sequence == 2
        assert services.to_local(meeting.starts_at).strftime("%H:%M") == "18:00"
    post_form(client, f"/verwaltung/gremien/sitzung/{meeting_id}/wiederherstellen")
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        assert not meeting.cancelled and meeting.sequence == 3


def test_staff_agenda_editor_orders_accepts_and_rejects(app, client, users, staff_do, setup):
    meeting_id = setup["public"][2]

    def run(staff):
        meeting = db.session.get(Meeting, meeting_id)
        ids = [services.add_item(meeting, staff, title=title, duration_minutes=10).id for title in ("A", "B", "C")]
        member = db.session.get(User, users["member"].id)
        ids.append(services.propose_item(meeting, member, "Vorschlag D", "", 15).id)
        ids.append(services.propose_item(meeting, member, "Vorschlag E", "", 15).id)
        return ids

    a, b, c, d, e = staff_do(run)
    login_as(client, users["staff"])
    html = page(client, f"/verwaltung/gremien/sitzung/{meeting_id}/")
    assert "Vorschläge von Mitgliedern" in html and "Vorschlag D" in html
    post_form(client, f"/verwaltung/gremien/sitzung/{meeting_id}/reihenfolge", {"move": f"up-{c}"})
    post_form(client, f"/verwaltung/gremien/punkt/{d}/annehmen")
    response = post_form(client, f"/verwaltung/gremien/punkt/{e}/ablehnen", {f"ablehnen-{e}-reason": ""})
    assert response.status_code == 200 and "Bitte füllen Sie dieses Feld aus." in response.get_data(as_text=True)
    post_form(client, f"/verwaltung/gremien/punkt/{e}/ablehnen", {f"ablehnen-{e}-reason": "Gehört in den Workshop."})

    def order():
        with app.app_context():
            meeting = db.session.get(Meeting, meeting_id)
            return [slot.item.title for slot in services.running_times(meeting).slots]

    assert order() == ["A", "C", "B", "Vorschlag D"]
    post_form(client, f"/verwaltung/gremien/sitzung/{meeting_id}/reihenfolge",
              {f"position-{a}": "4", f"position-{b}": "1", f"position-{c}": "2", f"position-{d}": "3"})
    assert order() == ["B", "C", "Vorschlag D", "A"]
    response = post_form(client, f"/verwaltung/gremien/sitzung/{meeting_id}/reihenfolge", {f"position-{a}": "x"},
                         follow_redirects=True)
    assert "ganze Zahlen" in response.get_data(as_text=True)
    assert order() == ["B", "C", "Vorschlag D", "A"]
    with app.app_context():
        rejected = db.session.get(AgendaItem, e)
        assert (rejected.status, rejected.status_reason) == ("rejected", "Gehört in den Workshop.")
    post_form(client, f"/verwaltung/gremien/sitzung/{meeting_id}/tagesordnung-veroeffentlichen")
    login_as(client, users["member"])
    html = page(client, f"/arbeitskreis/sitzung/{meeting_id}")
    assert "TOP 3:" in html and "Vorschlag D" in html
    assert "Gehört in den Workshop." in html  # the member sees why their proposal was not taken


def test_staff_item_links_and_uploads(app, client, users, staff_do, setup, make_idea):
    idea_id = make_idea()
    meeting_id = setup["public"][2]
    item_id = staff_do(lambda staff: services.add_item(db.session.get(Meeting, meeting_id), staff, title="Bericht",
                                                       duration_minutes=10).id)
    login_as(client, users["staff"])
    assert "Unterlage hinzufügen" in page(client, f"/verwaltung/gremien/punkt/{item_id}")
    response = post_form(client, f"/verwaltung/gremien/punkt/{item_id}/verknuepfungen",
                         {"ideas": f"{idea_id}, 424242", "measures": ""})
    assert "424242" in response.get_data(as_text=True)
    post_form(client, f"/verwaltung/gremien/punkt/{item_id}/verknuepfungen", {"ideas": str(idea_id), "measures": ""})

    response = post_form(client, f"/verwaltung/gremien/punkt/{item_id}/material",
                         {"material-title": "", "material-url": "", "material-file": (io.BytesIO(PNG), "Folien.pdf")},
                         content_type="multipart/form-data")
    assert "passt nicht zu ihrer Endung" in response.get_data(as_text=True)
    response = post_form(client, f"/verwaltung/gremien/punkt/{item_id}/material",
                         {"material-title": "", "material-url": "", "material-file": (io.BytesIO(b"MZ"), "virus.exe")},
                         content_type="multipart/form-data")
    assert "Erlaubt sind PDF, ODT, DOCX, XLSX, PNG und JPEG." in response.get_data(as_text=True)
    response = post_form(client, f"/verwaltung/gremien/punkt/{item_id}/material",
                         {"material-title": "", "material-url": ""})
    assert "Bitte geben Sie eine Webadresse an oder wählen Sie eine Datei aus." in response.get_data(as_text=True)
    response = post_form(client, f"/verwaltung/gremien/punkt/{item_id}/material",
                         {"material-title": "Konzept", "material-url": "",
                          "material-file": (io.BytesIO(DOCX), "Konzept.docx")},
                         content_type="multipart/form-data")
    assert response.status_code == 302
    response = post_form(client, f"/verwaltung/gremien/punkt/{item_id}/material",
                         {"material-title": "", "material-url": "javascript:alert(1)"})
    assert "https://" in response.get_data(as_text=True)
    with app.app_context():
        item = db.session.get(AgendaItem, item_id)
        assert [idea.id for idea in item.ideas] == [idea_id]
        assert [(m.title, m.filename, m.size) for m in item.materials] == [("Konzept", "Konzept.docx", len(DOCX))]


def test_staff_minutes_attendance_actions_and_publishing(app, client, users, staff_do, setup):
    body_id = setup["public"][0]

    def run(staff):
        start = _local_start(-1)
        meeting = services.create_meeting(db.session.get(Body, body_id), staff, title="Gestern", starts_at=start,
                                          ends_at=start + timedelta(hours=2))
        item = services.add_item(meeting, staff, title="Haushalt", duration_minutes=20)
        mara = db.session.scalar(select(BodyMember).where(BodyMember.body_id == body_id,
                                                          BodyMember.name == "Mara Mitglied"))
        return meeting.id, item.id, mara.id

    meeting_id, item_id, mara_id = staff_do(run)
    login_as(client, users["staff"])
    html = page(client, f"/verwaltung/gremien/sitzung/{meeting_id}/protokoll")
    assert "TOP 1: Haushalt" in html and "Mara Mitglied" in html and "Ehemalige Person" not in html
    response = post_form(client, f"/verwaltung/gremien/sitzung/{meeting_id}/protokoll", {
        f"discussion_{item_id}": "Kurze Aussprache", f"decision_{item_id}": "Zustimmung",
        f"attendance_{mara_id}": "present"})
    assert response.status_code == 302
    response = post_form(client, f"/verwaltung/gremien/sitzung/{meeting_id}/aufgabe", {
        "aufgabe-title": "Haushaltsmittel anmelden", "aufgabe-item": str(item_id), "aufgabe-member": str(mara_id),
        "aufgabe-assignee": "", "aufgabe-due_on": "2030-02-01"})
    assert response.status_code == 302
    response = post_form(client, f"/verwaltung/gremien/sitzung/{meeting_id}/aufgabe", {"aufgabe-title": ""})
    assert response.status_code == 200
    post_form(client, f"/verwaltung/gremien/sitzung/{meeting_id}/protokoll-veroeffentlichen")
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        item = db.session.get(AgendaItem, item_id)
        assert meeting.minutes_published_at is not None
        assert (item.discussion, item.decision) == ("Kurze Aussprache", "Zustimmung")
        assert db.session.scalar(select(Attendance.status).where(Attendance.member_id == mara_id)) == "present"
        action = db.session.scalar(select(ActionItem))
        assert (action.title, action.assignee, action.assignee_user_id, action.due_on) == (
            "Haushaltsmittel anmelden", "Mara Mitglied", users["member"].id, date(2030, 2, 1))
        action_id = action.id
    html = page(client, f"/verwaltung/gremien/{body_id}/aufgaben")
    assert "Haushaltsmittel anmelden" in html
    post_form(client, f"/verwaltung/gremien/aufgabe/{action_id}/status", {"status": "done"})
    row = '<th scope="row">Haushaltsmittel anmelden</th>'
    assert row not in page(client, f"/verwaltung/gremien/{body_id}/aufgaben?status=offen")
    assert row in page(client, f"/verwaltung/gremien/{body_id}/aufgaben?status=erledigt")
    with app.app_context():
        actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"meeting.minutes_saved", "action_item.created", "meeting.minutes_published",
            "action_item.status"} <= actions


def test_staff_regenerate_the_feed_token(app, client, users, setup):
    body_id = setup["public"][0]
    with app.app_context():
        old = db.session.get(Body, body_id).feed_token
    login_as(client, users["staff"])
    post_form(client, f"/verwaltung/gremien/{body_id}/kalender-adresse")
    with app.app_context():
        assert db.session.get(Body, body_id).feed_token != old


def test_staff_side_navigation_has_the_bodies(app, client, users):
    login_as(client, users["staff"])
    assert 'href="/verwaltung/gremien/"' in page(client, "/verwaltung/")
