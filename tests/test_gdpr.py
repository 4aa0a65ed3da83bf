"""Data protection end to end: a person who has done everything the platform offers downloads
their data (every row that refers to them is in it) and deletes the account (afterwards no row
of any table refers to them, and no text anywhere holds their name or e-mail address).

The tables are not listed by hand: every foreign key to users.id and every text column comes
from db.metadata, so a new table is checked as soon as it exists.
"""
import json
from datetime import date, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import JSON, String, Text, cast, func, select

from beteiligung import notices
from beteiligung.account.services import (OTHER_RECORDS, STAND_IN_TOKEN, delete_account, export_sections,
                                          user_foreign_keys)
from beteiligung.audit.models import AuditEntry
from beteiligung.auth.models import User
from beteiligung.extensions import db
from beteiligung.ideas.models import Comment, Idea, Support
from beteiligung.models import utcnow

from .conftest import DEFAULT_PASSWORD, login_as, post_form

BERLIN = ZoneInfo("Europe/Berlin")

NAME = "Quendolin Xylander"
REAL_NAME = "Dr. Quendolin Xylander"  # as the office wrote it into the working group's member list
EMAIL = "quendolin.x@example.org"
NEW_EMAIL = "quendolin.neu@example.org"  # an e-mail change that was requested, not confirmed
ORGANISATION = "Xylander Solarkooperative"
TOKEN_NAME = "Quendolins Skript"
REGISTRATION_NOTE = "Quendolins Rollstuhl braucht einen Platz am Gang"
REPORT_NOTE = "Xylanders Hinweis: doppelt eingereicht"
# Every personal string above contains one of these; after the deletion no text may.
MARKERS = ("quendolin", "xylander")

# Tables whose rows referring to a person need not be in the export, each with the reason.
# Nothing is exempt at present: every row that names a person belongs to that person's data.
NOT_EXPORTED = {}


def _staff_do(app, user_id, function):
    """Run `function(user)` in a request context as the app's services run, and commit."""
    with app.test_request_context("/"):
        result = function(db.session.get(User, user_id))
        db.session.commit()
        return result


def _ok(response):
    assert response.status_code in (200, 302), response.get_data(as_text=True)[:2000]
    return response


@pytest.fixture
def everything(app, client, users, make_user, make_idea, idea_setup):
    """A person who has done everything: citizen, working-group member, then staff.

    Returns the person's handle, the client logged in as them, and the ids of what they made."""
    from beteiligung.analysis.runner import create_run
    from beteiligung.analysis.services import decide_sectors
    from beteiligung.auth.services import change_role
    from beteiligung.balance.models import Balance, EmissionFactor, EnergyCarrier, ScenarioSettings
    from beteiligung.events import services as events
    from beteiligung.ideas import services as ideas
    from beteiligung.ideas.models import Source, Status
    from beteiligung.measures.exports import start_pdf_export
    from beteiligung.measures.services import create_measure, link_ideas
    from beteiligung.meetings import services as meetings
    from beteiligung.notifications.services import send_digests

    person = make_user(role="member", email=EMAIL, name=NAME)
    staff, admin, citizen, member = users["staff"], users["admin"], users["citizen"], users["member"]
    made = SimpleNamespace()

    # The administration blocks and unblocks the account, then makes the person staff.
    def moderate_account(moderator):
        someone = db.session.get(User, person.id)
        ideas.block_user(someone, moderator, f"Beiträge von {NAME} prüfen")
        ideas.unblock_user(someone, moderator, "Geprüft, alles in Ordnung.")
    _staff_do(app, staff.id, moderate_account)
    _staff_do(app, admin.id, lambda actor: change_role(db.session.get(User, person.id), "staff", actor=actor,
                                                       reason=f"{NAME} übernimmt die Moderation im Stadtteil."))

    # Logged in through the form (records the login).
    _ok(post_form(client, "/anmelden", {"email": EMAIL, "password": DEFAULT_PASSWORD}))

    # Ideas: one with a point on the map; others' ideas to support, comment on and report.
    made.own_idea = make_idea(author=person, title="Solardach auf der Turnhalle Nord",
                              text="Die Turnhalle hat ein großes, freies Süddach.", latitude=50.9271, longitude=11.5892)
    made.others_idea = make_idea(author=citizen, title="Radweg an der Saale", text="Durchgehend und breit.")
    made.reported_idea = make_idea(author=member, title="Mehr Bäume am Markt", text="Schatten für alle.")
    _ok(post_form(client, f"/ideen/{made.others_idea}/unterstuetzen", {}))
    _ok(post_form(client, f"/ideen/{made.others_idea}/kommentare", {"text": "Gute Idee, bitte bald umsetzen."}))
    _ok(post_form(client, f"/ideen/{made.reported_idea}/melden", {"reason": "spam", "note": REPORT_NOTE}))

    # Account: token, calendar link, daily digest, an e-mail change waiting for confirmation,
    # and a password reset link asked for.
    _ok(post_form(client, "/konto/tokens", {"name": TOKEN_NAME}))
    _ok(post_form(client, "/konto/kalender-link", {}))
    _ok(post_form(client, "/konto/benachrichtigungsweg", {"notification_mode": "daily"}))
    _ok(post_form(client, "/konto/email", {"email": NEW_EMAIL, "current_password": DEFAULT_PASSWORD}))
    _ok(post_form(app.test_client(), "/passwort-vergessen", {"email": EMAIL}))

    # Events: a seat in one (and facilitation of it), the waiting list of another.
    start = utcnow().replace(microsecond=0) + timedelta(days=14)

    def make_events(actor):
        facilitated = events.save_event(None, events.EventData(
            kind="workshop", title="Werkstatt Solardächer", starts_at=start, ends_at=start + timedelta(hours=3),
            place="Volkshochschule", facilitator=NAME, facilitator_user=db.session.get(User, person.id),
            capacity=1), actor=actor)
        full = events.save_event(None, events.EventData(
            kind="citizen_event", title="Bürgerforum Wärme", starts_at=start, ends_at=start + timedelta(hours=2),
            place="Rathaus", capacity=1), actor=actor)
        events.register(full, db.session.get(User, citizen.id))
        return facilitated.id, full.id
    made.event, made.full_event = _staff_do(app, staff.id, make_events)
    _ok(post_form(client, f"/veranstaltungen/{made.event}/anmelden", {"note": REGISTRATION_NOTE}))
    _ok(post_form(client, f"/veranstaltungen/{made.full_event}/anmelden", {}))
    _staff_do(app, member.id, lambda user: events.register(db.session.get(events.Event, made.event), user))

    # The working group: membership (with organisation), a proposal for the next meeting that
    # makes it onto the published agenda, attendance and an action item from the last one.
    meeting_day = (utcnow().astimezone(BERLIN) + timedelta(days=20)).date()
    meeting_start = _berlin(meeting_day, 17)

    def make_body(actor):
        body = meetings.save_body(None, actor, name="Arbeitskreis Klimaschutz", slug="", kind="working_group",
                                  description="", public=True, agenda_lead_days=7, proposal_deadline_days=10)
        membership = meetings.add_member(body, actor, name=REAL_NAME, organisation=ORGANISATION, role="Sprecherin",
                                         from_date=date(2024, 1, 1), email=EMAIL)
        meetings.add_member(body, actor, name="Mara Mitglied", organisation="Stadtwerke", role="Mitglied",
                            from_date=date(2024, 1, 1), email=member.email)
        earlier = utcnow() - timedelta(days=30)
        past = meetings.create_meeting(body, actor, title="Sitzung im Frühjahr", starts_at=earlier,
                                       ends_at=earlier + timedelta(hours=2), place="Rathaus")
        meetings.save_minutes(past, actor, items={}, attendance={membership.id: "present"})
        meetings.add_action(past, actor, title="Standortliste für Solardächer prüfen", member=membership)
        upcoming = meetings.create_meeting(body, actor, title="Sitzung im Sommer", starts_at=meeting_start,
                                           ends_at=meeting_start + timedelta(hours=2), place="Rathaus")
        return membership.id, upcoming.id
    made.membership, made.meeting = _staff_do(app, staff.id, make_body)
    _ok(post_form(client, f"/arbeitskreis/sitzung/{made.meeting}/vorschlag",
                  {"title": "Bürgersolarpark Ost", "description": "Kurzer Bericht", "duration_minutes": "15"}))

    def publish(actor):
        meeting = db.session.get(meetings.Meeting, made.meeting)
        for item in meeting.items:
            meetings.accept_item(item, actor)
        meetings.publish_agenda(meeting, actor)
    _staff_do(app, staff.id, publish)
    with app.test_request_context("/"):  # the agenda goes out to the members (with the presenter's name)
        notices.send_due_notices(meeting_start - timedelta(days=7) + timedelta(minutes=5))
        db.session.remove()

    # Staff work: answers, moderation, an analog idea, the analysis, a measure, the balance.
    def staff_work(me):
        others_idea = db.session.get(Idea, made.others_idea)
        ideas.change_status(others_idea, me, Status.IN_REVIEW)
        ideas.change_status(others_idea, me, Status.ALREADY_DONE, "Der Radweg wird schon gebaut.")
        ideas.hide(db.session.get(Idea, made.reported_idea), me, "Doppelt eingereicht.")
        analog = ideas.create_idea(None, "Bänke an der Saale", "Alle 300 Meter eine Bank.",
                                   district=ideas.find_district("winzerla"), source=Source.WORKSHOP, entered_by=me,
                                   event_name="Werkstatt Nord", facilitator=NAME, dot_votes=4)
        run = create_run(me)
        decide_sectors(run, me, [(db.session.get(Idea, made.own_idea), ideas.find_sector("energie"))])
        measure = create_measure(me, title="Solaroffensive", sector=ideas.find_sector("energie"))
        link_ideas(measure, [db.session.get(Idea, made.own_idea)], me, "Passt zur Solaroffensive.")
        start_pdf_export(me)
        db.session.add(EnergyCarrier(code="strom", name="Strom"))
        db.session.flush()
        db.session.add_all([EmissionFactor(carrier="strom", valid_from=2020, t_co2e_per_mwh=0.4, updated_by_id=me.id),
                            Balance(year=2022, population=110000, updated_by_id=me.id),
                            ScenarioSettings(updated_by_id=me.id)])
        return analog.id
    made.analog_idea = _staff_do(app, person.id, staff_work)

    with app.test_request_context("/"):  # the daily digest of the waiting notifications
        assert send_digests() == 1
        db.session.remove()
    return SimpleNamespace(person=person, client=client, made=made, others=users)


def _berlin(day, hour):
    from datetime import datetime, timezone

    return datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN).astimezone(timezone.utc)


def _rows_referring_to(user_id):
    """{"table.column": [primary key, ...]} of every row that refers to the account."""
    found = {}
    for table, column, _ondelete in user_foreign_keys():
        key = list(table.primary_key.columns)
        rows = db.session.execute(select(*key).where(column == user_id).order_by(*key)).all()
        if rows:
            found[f"{table.name}.{column.name}"] = [row[0] if len(key) == 1 else list(row) for row in rows]
    return found


def _texts_with_markers():
    """Every text or JSON value of every table that contains a marker, as "table.column: value"."""
    hits = []
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, (String, Text, JSON))]
        if not columns:
            continue
        for row in db.session.execute(select(*columns)):
            for column, value in zip(columns, row):
                if value is None:
                    continue
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                if any(marker in text.casefold() for marker in MARKERS):
                    hits.append(f"{table.name}.{column.name}: {text[:200]}")
    return hits


# --- the export -----------------------------------------------------------------------------------------

def test_the_scenario_touches_every_table_that_refers_to_accounts(app, everything):
    """So that the two tests below check every table: a new foreign key to users needs a step above."""
    with app.app_context():
        referring = _rows_referring_to(everything.person.id)
    missing = [f"{t.name}.{c.name}" for t, c, _ in user_foreign_keys() if f"{t.name}.{c.name}" not in referring]
    assert not missing, f"extend the `everything` fixture so that the person has rows in {missing}"


def test_the_export_contains_every_personal_datum(app, everything):
    person, made = everything.person, everything.made
    response = everything.client.get("/konto/daten.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_data(as_text=True)
    data = json.loads(body)

    account = data["account"]
    assert (account["id"], account["email"], account["display_name"], account["role"]) == \
        (person.id, EMAIL, NAME, "staff")
    assert account["last_login_at"] and account["privacy_accepted_at"]
    assert [e["action"] for e in data["account_history"]] == ["user.blocked", "user.unblocked", "user.role_changed"]
    assert data["settings"] == {"notification_mode": "daily", "calendar_feed_link_exists": True}
    assert [t["name"] for t in data["api_tokens"]] == [TOKEN_NAME]

    assert [(i["id"], i["latitude"]) for i in data["ideas"]] == [(made.own_idea, 50.9271)]
    assert [(c["idea_id"], c["text"]) for c in data["comments"]] == \
        [(made.others_idea, "Gute Idee, bitte bald umsetzen.")]
    assert [s["idea_id"] for s in data["supports"]] == [made.others_idea]
    assert [(r["idea_id"], r["note"]) for r in data["reports"]] == [(made.reported_idea, REPORT_NOTE)]
    assert {(r["event_id"], r["status"], r["note"]) for r in data["event_registrations"]} == {
        (made.event, "confirmed", REGISTRATION_NOTE), (made.full_event, "waiting", "")}
    assert [(m["name"], m["organisation"], m["role"]) for m in data["body_memberships"]] == \
        [(REAL_NAME, ORGANISATION, "Sprecherin")]
    assert [a["status"] for a in data["meeting_attendance"]] == ["present"]
    assert [(p["title"], p["status"], p["presenter"]) for p in data["agenda_proposals"]] == \
        [("Bürgersolarpark Ost", "accepted", NAME)]
    assert [a["title"] for a in data["action_items"]] == ["Standortliste für Solardächer prüfen"]
    assert [e["title"] for e in data["events_facilitated"]] == ["Werkstatt Solardächer"]
    assert {n["kind"] for n in data["notifications"]} >= {"agenda.accepted", "meeting.agenda", "event.registered"}
    recipients = {m["recipient"] for m in data["emails"]}
    assert recipients == {EMAIL, NEW_EMAIL}
    assert {m["kind"] for m in data["emails"]} >= {"password_reset", "email_change", "email_change_notice", "digest"}
    assert [n["key"] for n in data["notices"] if n["key"].startswith("digest:")] and \
        [n["key"] for n in data["notices"] if n["key"].startswith("meeting:")]
    # Staff work.
    assert [a["new_status"] for a in data["idea_answers"]] == ["in_review", "already_done", "in_measure"]
    assert [m["resolution"] for m in data["moderation_decisions"]] == ["hidden"]
    assert [i["id"] for i in data["ideas_entered"]] == [made.analog_idea]
    assert [d["kind"] for d in data["triage_decisions"]] == ["sector"] and len(data["analysis_runs"]) == 1
    assert [m["title"] for m in data["measures_created"]] == ["Solaroffensive"]
    assert [link["idea_id"] for link in data["idea_measure_links"]] == [made.own_idea]
    assert len(data["plan_exports"]) == 1 and [b["year"] for b in data["balance_edits"]] == [2022]
    assert len(data["emission_factor_edits"]) == 1 and len(data["scenario_edits"]) == 1
    assert "user.role_changed" not in {e["action"] for e in data["actions"]}  # done by the admin, not by them
    assert {"idea.status_changed", "idea.hidden", "agenda_item.proposed"} <= {e["action"] for e in data["actions"]}

    # Every row of every table that refers to the account is in its section (or in other_records).
    sections = export_sections()
    with app.app_context():
        referring = _rows_referring_to(person.id)
    for column, ids in referring.items():
        table = column.split(".")[0]
        if table in NOT_EXPORTED:
            continue
        section = sections[column]
        if section == OTHER_RECORDS:
            listed = [entry["id"] for entry in data[OTHER_RECORDS] if f"{entry['table']}.{entry['column']}" == column]
        else:
            listed = [entry["id"] for entry in data[section]]
        assert set(ids) <= set(listed), f"{column}: rows {sorted(set(ids) - set(listed))} missing in '{section}'"
    assert data[OTHER_RECORDS] == []  # every foreign key has a section of its own

    # No secret is in the file: passwords, sessions, API tokens, the calendar link.
    with app.app_context():
        user = db.session.get(User, person.id)
        secrets = [user.password_hash, user.session_token, user.calendar_token]
        from beteiligung.auth.models import ApiToken
        secrets += list(db.session.scalars(select(ApiToken.token_hash)))
    for secret in secrets:
        assert secret and secret not in body


# --- the deletion ---------------------------------------------------------------------------------------

def _delete_by_themselves(app, everything):
    response = post_form(everything.client, "/konto/loeschen",
                         {"current_password": DEFAULT_PASSWORD, "confirm": "y"})
    assert response.status_code == 302


def _delete_by_an_administrator(app, everything):
    """There is no page for it (yet); the service takes the administrator as actor."""
    admin_id = everything.others["admin"].id
    with app.test_request_context("/"):
        delete_account(db.session.get(User, everything.person.id), actor=db.session.get(User, admin_id))
        db.session.commit()


@pytest.mark.parametrize("delete", [_delete_by_themselves, _delete_by_an_administrator],
                         ids=["by-themselves", "by-an-administrator"])
def test_deletion_leaves_no_reference_and_no_name_anywhere(app, everything, delete):
    person, made = everything.person, everything.made
    with app.app_context():
        before = {
            "ideas": db.session.scalar(select(func.count(Idea.id))),
            "comments": db.session.scalar(select(func.count(Comment.id))),
            "actions": db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.actor_id == person.id)),
        }
    delete(app, everything)

    with app.app_context():
        referring = _rows_referring_to(person.id)
        assert referring == {}, f"rows still refer to the deleted account: {referring}"
        hits = _texts_with_markers()
        assert hits == [], "personal strings left:\n" + "\n".join(hits)

        husk = db.session.get(User, person.id)
        assert husk.is_deleted and husk.email is None and husk.display_name is None and husk.password_hash is None
        assert husk.calendar_token is None and husk.last_login_at is None and husk.role == "citizen"
        stand_in = db.session.scalar(select(User).where(User.session_token == STAND_IN_TOKEN))
        assert stand_in.is_deleted and stand_in.email is None and stand_in.public_name == "gelöschtes Konto"

        # Contributions and records of decisions stay, with the stand-in; the person's own rows go.
        assert db.session.scalar(select(func.count(Idea.id))) == before["ideas"]
        assert db.session.scalar(select(func.count(Comment.id))) == before["comments"]
        own = db.session.get(Idea, made.own_idea)
        assert own.author_id == stand_in.id and own.latitude is None and own.longitude is None
        assert db.session.get(Idea, made.analog_idea).entered_by_id == stand_in.id
        actions = db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.actor_id == stand_in.id))
        assert actions >= before["actions"]
        deleted = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.deleted"))
        expected_actor = stand_in.id if delete is _delete_by_themselves else everything.others["admin"].id
        assert (deleted.object_id, deleted.actor_id) == (str(person.id), expected_actor)

        # Counters agree with the rows: supports, seats (the waiting list moved up).
        from beteiligung.events.models import Event, Registration
        for idea in db.session.scalars(select(Idea)):
            assert idea.support_count == db.session.scalar(
                select(func.count(Support.id)).where(Support.idea_id == idea.id)), idea.id
        for event in db.session.scalars(select(Event)):
            assert event.confirmed_count == db.session.scalar(select(func.count(Registration.id)).where(
                Registration.event_id == event.id, Registration.status == "confirmed")), event.title
        assert db.session.scalar(select(Registration.status).where(
            Registration.event_id == made.event, Registration.user_id == everything.others["member"].id)) == "confirmed"

        # The membership stays in the body's history, anonymous and ended; so does the attendance.
        from beteiligung.meetings.models import Attendance, BodyMember
        membership = db.session.get(BodyMember, made.membership)
        assert (membership.user_id, membership.name, membership.organisation, membership.role) == \
            (None, "gelöschtes Konto", "", "")
        assert membership.to_date is not None
        assert db.session.scalar(select(func.count(Attendance.id)).where(Attendance.member_id == made.membership)) == 1

    # Pages show "gelöschtes Konto"; the old login and token open nothing.
    page = app.test_client().get(f"/ideen/{made.own_idea}").get_data(as_text=True)
    assert "gelöschtes Konto" in page and NAME not in page
    page = app.test_client().get(f"/ideen/{made.others_idea}").get_data(as_text=True)
    assert "gelöschtes Konto" in page
    staff = login_as(app.test_client(), everything.others["staff"])
    log = staff.get("/verwaltung/protokoll").get_data(as_text=True)
    assert "gelöschtes Konto" in log and NAME not in log
    response = post_form(app.test_client(), "/anmelden", {"email": EMAIL, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200  # the form again: the address is unknown


def test_deleted_people_share_one_stand_in_so_their_contributions_cannot_be_linked(app, make_user, make_idea):
    first, second = make_user(), make_user()
    first_idea, second_idea = make_idea(author=first), make_idea(author=second, title="Bänke am Fluss")
    for handle in (first, second):
        with app.test_request_context("/"):
            delete_account(db.session.get(User, handle.id))
            db.session.commit()
    with app.app_context():
        authors = {db.session.get(Idea, first_idea).author_id, db.session.get(Idea, second_idea).author_id}
        stand_ins = db.session.scalars(select(User.id).where(User.session_token == STAND_IN_TOKEN)).all()
        assert authors == set(stand_ins) and len(stand_ins) == 1
        assert not _rows_referring_to(first.id) and not _rows_referring_to(second.id)


def test_deleting_twice_changes_nothing(app, make_user):
    handle = make_user()
    with app.test_request_context("/"):
        delete_account(db.session.get(User, handle.id))
        db.session.commit()
        entries = db.session.scalar(select(func.count(AuditEntry.id)))
        delete_account(db.session.get(User, handle.id))
        db.session.commit()
        assert db.session.scalar(select(func.count(AuditEntry.id))) == entries


def test_names_with_umlauts_are_found_in_texts_and_in_the_json_of_the_audit_log(app, users, make_user):
    from beteiligung.meetings import services as meetings

    name = "Jördis Öztürk-Weiß"
    person = make_user(email="joerdis@example.org", name=name)

    def setup(staff):
        body = meetings.save_body(None, staff, name="Lenkungskreis", slug="", kind="steering_group", description="",
                                  public=False, agenda_lead_days=7, proposal_deadline_days=10)
        membership = meetings.add_member(body, staff, name=name, organisation="Bürgerverein", role="",
                                         from_date=date(2024, 1, 1), email=person.email)
        meeting = meetings.create_meeting(body, staff, title="Sitzung", starts_at=utcnow() - timedelta(days=3),
                                          ends_at=utcnow() - timedelta(days=3, hours=-2), place="Rathaus")
        meetings.add_action(meeting, staff, title="Protokoll verschicken", member=membership)
        meetings.add_item(meeting, staff, title="Bericht", presenter=name)
    _staff_do(app, users["staff"].id, setup)
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEntry.id)).where(
            func.lower(cast(AuditEntry.new_values, Text)).like("%rdis%"))) >= 2
    with app.test_request_context("/"):
        delete_account(db.session.get(User, person.id))
        db.session.commit()
    with app.app_context():
        leftovers = []
        for table in db.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, (String, Text, JSON))]
            for row in db.session.execute(select(*columns)) if columns else ():
                for column, value in zip(columns, row):
                    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                    if value is not None and ("jördis" in text.casefold() or "joerdis" in text.casefold()):
                        leftovers.append(f"{table.name}.{column.name}: {text[:120]}")
        assert leftovers == []
