"""The rules of the bodies: series in local time across the clock changes, idempotent
expansion, sequence numbers, running times, the proposal deadline, open action items on the
next agenda, decisions on the measure pages, and the checks of uploaded materials."""
import io
import zipfile
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from beteiligung.audit.models import AuditEntry
from beteiligung.auth.models import User
from beteiligung.extensions import db
from beteiligung.measures.models import Measure
from beteiligung.measures.services import save_sheet
from beteiligung.meetings import services
from beteiligung.meetings.models import (ActionItem, AgendaItem, AgendaStatus, Body, BodyMember, Meeting,
                                         MeetingSeries)
from beteiligung.meetings.services import MeetingError
from beteiligung.models import utcnow
from beteiligung.notifications.models import Notification

BERLIN = ZoneInfo("Europe/Berlin")
UTC = timezone.utc


@pytest.fixture
def staff_do(app, users):
    """Run `function(staff user)` in a request context and commit; returns its result."""

    def run(function):
        with app.test_request_context():
            result = function(db.session.get(User, users["staff"].id))
            db.session.commit()
            return result

    return run


def make_body(staff, name="Arbeitskreis Klimaschutz", public=True, deadline_days=10):
    return services.save_body(None, staff, name=name, slug="", kind="working_group", description="",
                              public=public, agenda_lead_days=7, proposal_deadline_days=deadline_days)


def make_meeting(body, staff, starts_at, minutes=120, title="Sitzung"):
    return services.create_meeting(body, staff, title=title, starts_at=starts_at,
                                   ends_at=starts_at + timedelta(minutes=minutes), place="Rathaus, Saal 1")


def local(meeting_time):
    return meeting_time.astimezone(BERLIN)


# --- series in local time ---------------------------------------------------------------------------

def second_tuesday_series(staff, body):
    return services.create_series(body, staff, title="Sitzung des Arbeitskreises", rule="FREQ=MONTHLY;BYDAY=2TU",
                                  first_start_local=datetime(2025, 1, 1, 17, 0), duration_minutes=120,
                                  place="Rathaus", online_url="https://konferenz.example.org/ak")


def test_every_second_tuesday_stays_at_17_local_across_both_clock_changes(app, staff_do):
    def run(staff):
        body = make_body(staff)
        series = second_tuesday_series(staff, body)
        created = services.expand_series(series, date(2025, 12, 31), actor=staff)
        return [(m.starts_at, m.ends_at, m.original_start, m.uid, m.title, m.place, m.online_url) for m in created]

    meetings = staff_do(run)
    assert len(meetings) == 12
    days = [local(start).date() for start, *_rest in meetings]
    assert days[:4] == [date(2025, 1, 14), date(2025, 2, 11), date(2025, 3, 11), date(2025, 4, 8)]
    assert days[-3:] == [date(2025, 10, 14), date(2025, 11, 11), date(2025, 12, 9)]
    for start, end, original, uid, title, place, online in meetings:
        assert (local(start).hour, local(start).minute) == (17, 0)
        assert (local(end).hour, local(end).minute) == (19, 0)
        assert original == start
        assert uid.startswith("meeting-") and uid.endswith("@beteiligung")
        assert (title, place, online) == ("Sitzung des Arbeitskreises", "Rathaus", "https://konferenz.example.org/ak")
    by_day = {local(start).date(): start for start, *_rest in meetings}
    # Winter time is UTC+1, summer time (from 30 March to 26 October 2025) UTC+2.
    assert by_day[date(2025, 3, 11)] == datetime(2025, 3, 11, 16, 0, tzinfo=UTC)
    assert by_day[date(2025, 4, 8)] == datetime(2025, 4, 8, 15, 0, tzinfo=UTC)
    assert by_day[date(2025, 10, 14)] == datetime(2025, 10, 14, 15, 0, tzinfo=UTC)
    assert by_day[date(2025, 11, 11)] == datetime(2025, 11, 11, 16, 0, tzinfo=UTC)
    assert len({meeting[3] for meeting in meetings}) == 12  # a UID of its own for every date


def test_expanding_again_keeps_moved_and_cancelled_dates_and_adds_only_new_ones(app, staff_do):
    def first(staff):
        body = make_body(staff)
        series = second_tuesday_series(staff, body)
        created = services.expand_series(series, date(2025, 6, 30), actor=staff)
        march, may = created[2], created[4]
        services.move_meeting(march, march.starts_at + timedelta(days=2), march.ends_at + timedelta(days=2), staff)
        services.cancel_meeting(may, "Feiertagswoche", staff)
        return series.id, march.id, may.id, len(created)

    series_id, march_id, may_id, count = staff_do(first)
    assert count == 6

    def again(staff):
        series = db.session.get(MeetingSeries, series_id)
        return len(services.expand_series(series, date(2025, 6, 30), actor=staff)), \
            len(services.expand_series(series, date(2025, 9, 30), actor=staff))

    assert staff_do(again) == (0, 3)
    with app.app_context():
        rows = db.session.scalars(select(Meeting).where(Meeting.series_id == series_id)
                                  .order_by(Meeting.original_start)).all()
        assert len(rows) == 9
        assert len({row.original_start for row in rows}) == 9
        march = db.session.get(Meeting, march_id)
        assert local(march.starts_at).date() == date(2025, 3, 13)
        assert services.was_moved(march) and march.sequence == 1
        may = db.session.get(Meeting, may_id)
        assert may.cancelled and may.cancel_reason == "Feiertagswoche" and may.sequence == 1


def test_sequence_grows_with_every_change_of_time_place_link_and_status(app, staff_do):
    start = datetime(2030, 3, 12, 16, 0, tzinfo=UTC)

    def run(staff):
        meeting = make_meeting(make_body(staff), staff, start)
        seen = [meeting.sequence]
        services.move_meeting(meeting, start + timedelta(hours=1), start + timedelta(hours=3), staff)
        seen.append(meeting.sequence)
        services.move_meeting(meeting, start + timedelta(hours=1), start + timedelta(hours=3), staff)  # no change
        seen.append(meeting.sequence)
        services.update_meeting(meeting, staff, title=meeting.title, place="Volkshaus", online_url="")
        seen.append(meeting.sequence)
        services.update_meeting(meeting, staff, title=meeting.title, place="Volkshaus",
                                online_url="https://konferenz.example.org/x")
        seen.append(meeting.sequence)
        services.update_meeting(meeting, staff, title=meeting.title, place="Volkshaus",
                                online_url="https://konferenz.example.org/x")  # no change
        seen.append(meeting.sequence)
        services.cancel_meeting(meeting, "Krankheit", staff)
        seen.append(meeting.sequence)
        services.restore_meeting(meeting, staff)
        seen.append(meeting.sequence)
        return seen, meeting.id

    seen, meeting_id = staff_do(run)
    assert seen == [0, 1, 1, 2, 3, 3, 4, 5]
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "meeting",
                                                                     AuditEntry.object_id == str(meeting_id))
                                     .order_by(AuditEntry.id)).all()
    assert actions == ["meeting.created", "meeting.moved", "meeting.updated", "meeting.updated", "meeting.cancelled",
                       "meeting.restored"]


@pytest.mark.parametrize("rule, words", [
    ("FREQ=HOURLY", "täglich"),
    ("FREQ=MONTHLY;BYDAY=2XX", "ungültig"),
    ("jeden zweiten Dienstag", "NAME=WERT"),
    ("FREQ=MONTHLY;BYHOUR=17", "Uhrzeit"),
    ("FREQ=WEEKLY;FOO=1", "Unbekannter Bestandteil"),
    ("FREQ=DAILY\nDTSTART:20250101T000000", "einer Zeile"),
    ("FREQ=DAILY;COUNT=501", "COUNT"),
    ("", "Bitte geben Sie eine Wiederholungsregel an"),
    ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "keinen einzigen Termin"),
    ("FREQ=DAILY;BYSETPOS=2", "BYSETPOS"),
])
def test_bad_rules_get_a_german_message(app, rule, words):
    with app.app_context():
        with pytest.raises(MeetingError) as caught:
            services.normalise_rule(rule)
    assert words in caught.value.message
    assert caught.value.field == "rule"


def test_rules_are_normalised_and_utc_until_is_understood(app):
    with app.app_context():
        assert services.normalise_rule(" rrule:freq=monthly;byday=-1fr ") == "FREQ=MONTHLY;BYDAY=-1FR"
        starts = services.occurrence_starts("FREQ=WEEKLY;BYDAY=TU;UNTIL=20250128T160000Z",
                                            datetime(2025, 1, 1, 17, 0), datetime(2026, 1, 1, tzinfo=UTC))
    assert [local(start).date() for start in starts] == [date(2025, 1, 7), date(2025, 1, 14), date(2025, 1, 21),
                                                         date(2025, 1, 28)]


def test_an_expansion_stops_at_500_dates(app, staff_do):
    def run(staff):
        series = services.create_series(make_body(staff), staff, title="Täglich", rule="FREQ=DAILY",
                                        first_start_local=datetime(2025, 1, 1, 9, 0), duration_minutes=30)
        with pytest.raises(MeetingError) as caught:
            services.expand_series(series, date(2026, 12, 31), actor=staff)
        return caught.value.message

    assert "mehr als 500 Termine" in staff_do(run)


def test_a_daily_rule_without_dates_is_refused_quickly(app):
    """dateutil would look day by day until the year 9999 (seconds); the check answers much faster."""
    import time

    with app.app_context():
        started = time.perf_counter()
        with pytest.raises(MeetingError):
            services.normalise_rule("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30")
        assert time.perf_counter() - started < 1.5
        assert services.normalise_rule("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29") == "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29"


def test_builder_rules_and_their_description(app):
    with app.test_request_context():
        assert services.builder_rule("MONTHLY", "TU", ordinal=2) == "FREQ=MONTHLY;BYDAY=2TU"
        assert services.builder_rule("MONTHLY", "FR", ordinal=-1) == "FREQ=MONTHLY;BYDAY=-1FR"
        assert services.builder_rule("WEEKLY", "WE", interval=2) == "FREQ=WEEKLY;BYDAY=WE;INTERVAL=2"
        assert services.describe_rule("FREQ=MONTHLY;BYDAY=2TU") == "jeden zweiten Dienstag im Monat"
        assert services.describe_rule("FREQ=MONTHLY;BYDAY=-1FR") == "jeden letzten Freitag im Monat"
        assert services.describe_rule("FREQ=YEARLY") == "FREQ=YEARLY"


# --- agenda -------------------------------------------------------------------------------------------

def test_running_times_add_up_the_accepted_items(app, staff_do, users):
    start = datetime(2030, 3, 12, 16, 0, tzinfo=UTC)  # 17:00 in Jena

    def run(staff):
        meeting = make_meeting(make_body(staff), staff, start)
        first = services.add_item(meeting, staff, title="Begrüßung", duration_minutes=10)
        second = services.add_item(meeting, staff, title="Bericht Wärmeplanung", duration_minutes=20)
        services.propose_item(meeting, staff, "Vorschlag", "", 30)  # not accepted: no time
        third = services.add_item(meeting, staff, title="Verschiedenes", duration_minutes=15)
        db.session.refresh(meeting)
        times = services.running_times(meeting)
        return ([(slot.item.title, slot.number, local(slot.starts_at).strftime("%H:%M")) for slot in times.slots],
                local(times.planned_end).strftime("%H:%M"), [first.id, second.id, third.id])

    slots, end, _ids = staff_do(run)
    assert slots == [("Begrüßung", 1, "17:00"), ("Bericht Wärmeplanung", 2, "17:10"), ("Verschiedenes", 3, "17:30")]
    assert end == "17:45"


def test_moving_and_numbering_items(app, staff_do):
    def run(staff):
        meeting = make_meeting(make_body(staff), staff, datetime(2030, 3, 12, 16, 0, tzinfo=UTC))
        items = [services.add_item(meeting, staff, title=title, duration_minutes=10) for title in "ABC"]
        db.session.refresh(meeting)
        services.move_item(items[2], -1, staff)
        after_up = [slot.item.title for slot in services.running_times(meeting).slots]
        services.set_positions(meeting, {items[0].id: 3, items[1].id: 1, items[2].id: 2}, staff)
        return after_up, [slot.item.title for slot in services.running_times(meeting).slots]

    assert staff_do(run) == (["A", "C", "B"], ["B", "C", "A"])


@pytest.fixture
def body_with_member(app, staff_do, users):
    """A public body whose member account is users['member'], deadline 10 days."""
    def run(staff):
        body = make_body(staff)
        services.add_member(body, staff, name="Mara Mitglied", organisation="Stadtwerke", role="Mitglied",
                            from_date=date(2024, 1, 1), email=users["member"].email)
        return body.id

    return staff_do(run)


def test_proposals_until_the_deadline_only_by_members(app, staff_do, users, body_with_member):
    start = utcnow().replace(microsecond=0) + timedelta(days=20)

    def run(staff):
        body = db.session.get(Body, body_with_member)
        meeting = make_meeting(body, staff, start)
        assert services.proposal_deadline(meeting) == start - timedelta(days=10)
        member = db.session.get(User, users["member"].id)
        item = services.propose_item(meeting, member, "Kältenetz im Neubaugebiet", "Kurzer Bericht", 15)
        assert item.status == AgendaStatus.PROPOSED.value and item.proposed_by_id == member.id
        with pytest.raises(MeetingError) as late:
            services.propose_item(meeting, member, "Zu spät", "", 15,
                                  now=start - timedelta(days=10) + timedelta(seconds=1))
        assert "Frist" in late.value.message and "abgelaufen" in late.value.message
        citizen = db.session.get(User, users["citizen"].id)
        with pytest.raises(MeetingError) as outsider:
            services.propose_item(meeting, citizen, "Von außen", "", 15)
        assert "Nur Mitglieder" in outsider.value.message
        return meeting.id

    meeting_id = staff_do(run)
    with app.app_context():
        assert db.session.scalar(select(func.count(AgendaItem.id)).where(AgendaItem.meeting_id == meeting_id)) == 1


def test_former_members_cannot_propose(app, staff_do, users, body_with_member):
    def run(staff):
        body = db.session.get(Body, body_with_member)
        member_row = body.members[0]
        services.update_member(member_row, staff, name=member_row.name, organisation=member_row.organisation,
                               role=member_row.role, from_date=member_row.from_date,
                               to_date=services.today_local() - timedelta(days=1))
        meeting = make_meeting(body, staff, utcnow() + timedelta(days=30))
        with pytest.raises(MeetingError):
            services.propose_item(meeting, db.session.get(User, users["member"].id), "Noch ein Punkt", "", 15)
        return [m.name for m in services.active_members(body)]

    assert staff_do(run) == []


def test_accepting_and_rejecting_tell_the_proposer(app, staff_do, users, body_with_member):
    def run(staff):
        meeting = make_meeting(db.session.get(Body, body_with_member), staff, utcnow() + timedelta(days=30))
        member = db.session.get(User, users["member"].id)
        first = services.propose_item(meeting, member, "Punkt eins", "", 15)
        second = services.propose_item(meeting, member, "Punkt zwei", "", 15)
        services.accept_item(first, staff)
        with pytest.raises(MeetingError):
            services.reject_item(second, "  ", staff)
        services.reject_item(second, "Passt besser in den Workshop Wärme.", staff)
        return first.status, second.status, second.status_reason

    assert staff_do(run) == ("accepted", "rejected", "Passt besser in den Workshop Wärme.")
    with app.app_context():
        messages = db.session.scalars(select(Notification.message).where(Notification.user_id == users["member"].id)
                                      .order_by(Notification.id)).all()
    assert len(messages) == 2
    assert "„Punkt eins“ steht auf der Tagesordnung" in messages[0]
    assert "nicht in die Tagesordnung" in messages[1] and "Workshop Wärme" in messages[1]


def test_open_action_items_appear_on_the_next_agenda(app, staff_do):
    now = utcnow().replace(microsecond=0)

    def run(staff):
        body = make_body(staff)
        other = make_body(staff, name="Lenkungskreis")
        earlier = make_meeting(body, staff, now - timedelta(days=30))
        item = services.add_item(earlier, staff, title="Wärmeplanung", duration_minutes=20)
        open_one = services.add_action(earlier, staff, title="Daten der Stadtwerke anfragen", agenda_item=item,
                                       assignee="Stadtwerke", due_on=date(2030, 1, 31))
        done_one = services.add_action(earlier, staff, title="Protokoll verschicken")
        services.set_action_status(done_one, "done", staff)
        services.add_action(make_meeting(other, staff, now - timedelta(days=20)), staff, title="Andere Aufgabe")
        following = make_meeting(body, staff, now + timedelta(days=5))
        later = make_meeting(body, staff, now + timedelta(days=35))
        carried = [action.title for action in services.open_actions_before(following)]
        public = [action.title for action in services.open_actions_before(following, published_only=True)]
        services.publish_minutes(earlier, staff)
        public_after = [action.title for action in services.open_actions_before(following, published_only=True)]
        before_earlier = services.open_actions_before(earlier)
        services.set_action_status(open_one, "done", staff)
        after_done = services.open_actions_before(later)
        return carried, public, public_after, before_earlier, after_done

    carried, public, public_after, before_earlier, after_done = staff_do(run)
    assert carried == ["Daten der Stadtwerke anfragen"]
    assert public == []  # the minutes were not yet published
    assert public_after == ["Daten der Stadtwerke anfragen"]
    assert before_earlier == [] and after_done == []


def test_minutes_store_items_and_attendance_of_active_members(app, staff_do, body_with_member):
    def run(staff):
        body = db.session.get(Body, body_with_member)
        guest = services.add_member(body, staff, name="Gerd Gast", from_date=date(2024, 1, 1))
        gone = services.add_member(body, staff, name="Frieda Früher", from_date=date(2020, 1, 1),
                                   to_date=date(2021, 1, 1))
        meeting = make_meeting(body, staff, utcnow() - timedelta(days=1))
        item = services.add_item(meeting, staff, title="Bericht", duration_minutes=10)
        db.session.refresh(meeting)
        mara = next(member for member in body.members if member.name == "Mara Mitglied")
        services.save_minutes(meeting, staff, items={item.id: ("Aussprache", "Beschlossen")},
                              attendance={mara.id: "present", guest.id: "excused", gone.id: "present"})
        groups = services.attendance_summary(meeting)
        with pytest.raises(MeetingError):
            services.save_minutes(meeting, staff, items={}, attendance={mara.id: "maybe"})
        return item.discussion, item.decision, {status.value: [m.name for m in members]
                                                for status, members in groups.items()}

    discussion, decision, groups = staff_do(run)
    assert (discussion, decision) == ("Aussprache", "Beschlossen")
    assert groups == {"present": ["Mara Mitglied"], "excused": ["Gerd Gast"], "absent": []}


def test_minutes_are_published_only_after_the_meeting_began(app, staff_do):
    def run(staff):
        meeting = make_meeting(make_body(staff), staff, utcnow() + timedelta(days=3))
        with pytest.raises(MeetingError) as caught:
            services.publish_minutes(meeting, staff)
        return caught.value.message

    assert "erst nach Beginn" in staff_do(run)


# --- decisions on the measure page ----------------------------------------------------------------

def test_a_published_decision_appears_on_the_measure_page(app, client, staff_do, idea_setup):
    def run(staff):
        measure = save_sheet(None, staff, {"title": "Kommunale Wärmeplanung", "sector": "energie"})
        meeting = make_meeting(make_body(staff), staff, datetime(2025, 3, 12, 16, 0, tzinfo=UTC))
        services.add_item(meeting, staff, title="Begrüßung", duration_minutes=5)
        item = services.add_item(meeting, staff, title="Wärmeplan: Eckpunkte", duration_minutes=30)
        services.set_item_links(item, staff, idea_text="", measure_text=measure.number.lower())
        db.session.refresh(meeting)
        services.save_minutes(meeting, staff, items={item.id: ("", "Der Arbeitskreis empfiehlt <b>Variante B</b>.")},
                              attendance={})
        return measure.id, meeting.id

    measure_id, meeting_id = staff_do(run)
    html = client.get(f"/massnahmen/{measure_id}").get_data(as_text=True)
    assert "Variante B" not in html  # minutes not yet published

    staff_do(lambda staff: services.publish_minutes(db.session.get(Meeting, meeting_id), staff))
    html = client.get(f"/massnahmen/{measure_id}").get_data(as_text=True)
    assert "Der Arbeitskreis empfiehlt &lt;b&gt;Variante B&lt;/b&gt;." in html
    assert "Sitzung vom 12.03.2025, TOP 2: Wärmeplan: Eckpunkte" in html
    assert f'href="/arbeitskreis/sitzung/{meeting_id}#top-2"' in html
    assert "Arbeitskreis Klimaschutz" in html


def test_decisions_of_internal_bodies_stay_internal(app, client, staff_do, idea_setup):
    def run(staff):
        measure = save_sheet(None, staff, {"title": "Klimaneutrale Verwaltung", "sector": "energie"})
        meeting = make_meeting(make_body(staff, name="Lenkungskreis", public=False), staff,
                               datetime(2025, 3, 12, 16, 0, tzinfo=UTC))
        item = services.add_item(meeting, staff, title="Haushalt", duration_minutes=30)
        services.set_item_links(item, staff, idea_text="", measure_text=measure.number)
        db.session.refresh(meeting)
        services.save_minutes(meeting, staff, items={item.id: ("", "Vertraulicher Beschluss")}, attendance={})
        services.publish_minutes(meeting, staff)
        return measure.id

    measure_id = staff_do(run)
    assert "Vertraulicher Beschluss" not in client.get(f"/massnahmen/{measure_id}").get_data(as_text=True)


def test_links_to_unknown_ideas_or_measures_change_nothing(app, staff_do, make_idea):
    idea_id = make_idea()

    def run(staff):
        meeting = make_meeting(make_body(staff), staff, utcnow() + timedelta(days=3))
        item = services.add_item(meeting, staff, title="Punkt", duration_minutes=5)
        services.set_item_links(item, staff, idea_text=f"#{idea_id}", measure_text="")
        messages = []
        for ideas, measures in ((f"{idea_id}, 99999", ""), ("", "M-9.9"), ("", "Radweg"), ("zwölf", "")):
            with pytest.raises(MeetingError) as caught:
                services.set_item_links(item, staff, idea_text=ideas, measure_text=measures)
            messages.append(caught.value.message)
        return [idea.id for idea in item.ideas], messages

    linked, messages = staff_do(run)
    assert linked == [idea_id]
    assert "99999" in messages[0] and "M-9.9" in messages[1] and "Format" in messages[2]
    assert "Nummern" in messages[3]


# --- materials ------------------------------------------------------------------------------------

def _zip(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
DOCX = _zip({"[Content_Types].xml": "<Types/>", "word/document.xml": "<w:document/>"})
XLSX = _zip({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook/>"})
ODT = _zip({"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": "<office:document/>"})


@pytest.mark.parametrize("name, data, content_type", [
    ("Folien.pdf", PDF, "application/pdf"),
    ("Plan.PNG", PNG, "image/png"),
    ("Foto.jpeg", b"\xff\xd8\xff\xe0" + b"\x00" * 20, "image/jpeg"),
    ("Bericht.docx", DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("Tabelle.xlsx", XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("Text.odt", ODT, "application/vnd.oasis.opendocument.text"),
])
def test_allowed_materials(app, name, data, content_type):
    with app.app_context():
        assert services.check_material_file(name, data) == (name, content_type)


@pytest.mark.parametrize("name, data, words", [
    ("Programm.exe", b"MZ\x90\x00", "Erlaubt sind PDF"),
    ("Folien.pdf", PNG, "passt nicht zu ihrer Endung"),
    ("Seite.html", b"<html><script>alert(1)</script>", "Erlaubt sind PDF"),
    ("Bericht.docx", XLSX, "passt nicht"),
    ("Tabelle.xlsx", b"PK\x03\x04 kaputt", "passt nicht"),
    ("Text.odt", DOCX, "passt nicht"),
    ("Leer.pdf", b"", "leer"),
    ("Riesig.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), "zu groß"),
    ("", PDF, "Bitte wählen Sie eine Datei"),
])
def test_refused_materials(app, name, data, words):
    with app.app_context():
        with pytest.raises(MeetingError) as caught:
            services.check_material_file(name, data)
    assert words in caught.value.message


def test_file_names_are_cleaned(app):
    with app.app_context():
        assert services.check_material_file('..\\..\\etc/"Folien"<1>.pdf', PDF)[0] == "Folien1.pdf"


# --- bodies and members --------------------------------------------------------------------------

def test_body_names_and_addresses_are_unique_and_checked(app, staff_do):
    def run(staff):
        body = make_body(staff)
        messages = []
        for name, slug in (("arbeitskreis klimaschutz", ""), ("Neu", body.slug), ("Neu", "Mit Leerzeichen"),
                           ("Neu", "sitzung")):
            with pytest.raises(MeetingError) as caught:
                services.save_body(None, staff, name=name, slug=slug, kind="working_group", description="",
                                   public=True, agenda_lead_days=7, proposal_deadline_days=10)
            messages.append((caught.value.field, caught.value.message))
        return body.slug, messages

    slug, messages = staff_do(run)
    assert slug == "arbeitskreis-klimaschutz"
    assert [field for field, _message in messages] == ["name", "slug", "slug", "slug"]
    assert "reserviert" in messages[3][1]


def test_linking_an_account_by_email(app, staff_do, users):
    def run(staff):
        body = make_body(staff)
        with pytest.raises(MeetingError) as unknown:
            services.add_member(body, staff, name="Niemand", email="niemand@example.org")
        member = services.add_member(body, staff, name="Mara", email=users["member"].email.upper())
        with pytest.raises(MeetingError) as twice:
            services.add_member(body, staff, name="Mara doppelt", email=users["member"].email)
        return unknown.value.field, member.user_id, twice.value.message

    field, user_id, message = staff_do(run)
    assert field == "email" and user_id == users["member"].id and "bereits" in message
    with app.app_context():
        assert db.session.scalar(select(func.count(BodyMember.id))) == 1
        assert db.session.scalar(select(func.count(ActionItem.id))) == 0
        assert db.session.scalar(select(func.count(Measure.id))) == 0
