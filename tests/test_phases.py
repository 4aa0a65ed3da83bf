"""Process settings: the phases (forms closed outside them, the admin form, the job that
announces starts and ends), and the fields of action and districts admins maintain."""
import threading
from datetime import datetime, timedelta, timezone

import pytest

from beteiligung.audit.models import AuditEntry
from beteiligung.extensions import db
from beteiligung.ideas import jobs, services
from beteiligung.ideas.models import District, Idea, Phase, Sector, Support
from beteiligung.mail.models import OutboxMessage
from beteiligung.models import utcnow
from beteiligung.notifications.models import Notification

from .conftest import login_as, post_form

PHASES = "/verwaltung/phasen"


def client_for(app, user):
    return login_as(app.test_client(), user)


def audit(app, action):
    with app.app_context():
        return db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == action)
                                  .order_by(AuditEntry.id)).all()


def phase(app, kind):
    with app.app_context():
        return db.session.scalar(db.select(Phase).where(Phase.kind == kind))


def put_phase(app, kind, starts_at, ends_at, start_notified_at=None, end_notified_at=None):
    """Set a phase's dates directly (as if configured long ago or just now)."""
    with app.app_context():
        row = db.session.scalar(db.select(Phase).where(Phase.kind == kind))
        if row is None:
            row = Phase(kind=kind)
            db.session.add(row)
        row.starts_at, row.ends_at = starts_at, ends_at
        row.start_notified_at, row.end_notified_at = start_notified_at, end_notified_at
        db.session.commit()


def settle_phases(app):
    """The fixture phases have run for ten days: mark them announced, as the job would have."""
    with app.app_context():
        now = utcnow()
        db.session.execute(db.update(Phase).values(start_notified_at=now))
        db.session.commit()


def run_job(app):
    with app.test_request_context("/"):
        return jobs.announce_phases()


def notified(app, kind):
    with app.app_context():
        return sorted(db.session.scalars(db.select(Notification.user_id).where(Notification.kind == kind)))


def mails(app, subject):
    with app.app_context():
        return db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.subject == subject)
                                  .order_by(OutboxMessage.id)).all()


# --- forms are closed outside the phases ---------------------------------------------------------

def test_idea_form_is_closed_outside_the_collection_phase(app, users, idea_setup, set_phase):
    set_phase("collection", open=False)
    client = client_for(app, users["citizen"])
    page = client.get("/ideen/neu").get_data(as_text=True)
    assert "Die Ideensammlung ist geschlossen" in page
    assert 'id="idea-form"' not in page
    post_form(client, "/ideen/neu", {"title": "Späte Idee", "text": "Zu spät eingereicht.", "sector": "energie",
                                     "district": "winzerla"})
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Idea.id))) == 0
    set_phase("collection", open=True)
    response = post_form(client, "/ideen/neu", {"title": "Rechtzeitige Idee", "text": "Pünktlich eingereicht.",
                                                "sector": "energie", "district": "winzerla"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Idea.id))) == 1


def test_support_is_refused_outside_the_support_phase(app, users, make_idea, set_phase):
    idea_id = make_idea()
    set_phase("support", open=False)
    client = client_for(app, users["citizen"])
    page = post_form(client, f"/ideen/{idea_id}/unterstuetzen", follow_redirects=True).get_data(as_text=True)
    assert "Die Unterstützungsphase ist derzeit geschlossen." in page
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Support.id))) == 0
        assert db.session.get(Idea, idea_id).support_count == 0


# --- the admin form ------------------------------------------------------------------------------

def test_admin_sets_phases_in_local_time_stored_as_utc(app, users, idea_setup):
    client = client_for(app, users["admin"])
    response = post_form(client, PHASES, {
        "collection_starts_at": "2030-01-15T09:00", "collection_ends_at": "2030-03-31T18:00",
        "support_starts_at": "2030-04-01T00:00", "support_ends_at": "2030-07-01T12:30",
    }, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Gespeichert: Ideensammlung, Unterstützungsphase." in page
    collection, support = phase(app, "collection"), phase(app, "support")
    # Winter: UTC+1, summer: UTC+2.
    assert collection.starts_at == datetime(2030, 1, 15, 8, 0, tzinfo=timezone.utc)
    assert collection.ends_at == datetime(2030, 3, 31, 16, 0, tzinfo=timezone.utc)
    assert support.starts_at == datetime(2030, 3, 31, 22, 0, tzinfo=timezone.utc)
    assert support.ends_at == datetime(2030, 7, 1, 10, 30, tzinfo=timezone.utc)
    # The form shows local time again, and the state is derived now: both lie in the future.
    assert 'value="2030-01-15T09:00"' in page and 'value="2030-07-01T12:30"' in page
    assert page.count("geschlossen – beginnt noch") == 2
    entries = audit(app, "phase.changed")
    assert len(entries) == 2 and all(entry.actor_id == users["admin"].id for entry in entries)
    assert entries[0].new_values == {"starts_at": "2030-01-15T08:00:00+00:00",
                                     "ends_at": "2030-03-31T16:00:00+00:00"}

    # Saving the same values again changes and records nothing.
    page = post_form(client, PHASES, {
        "collection_starts_at": "2030-01-15T09:00", "collection_ends_at": "2030-03-31T18:00",
        "support_starts_at": "2030-04-01T00:00", "support_ends_at": "2030-07-01T12:30",
    }, follow_redirects=True).get_data(as_text=True)
    assert "Die Zeiträume sind unverändert." in page
    assert len(audit(app, "phase.changed")) == 2


def test_phase_page_shows_the_current_state(app, users, idea_setup, set_phase):
    set_phase("support", open=False)
    page = client_for(app, users["admin"]).get(PHASES).get_data(as_text=True)
    assert ">geöffnet<" in page and "geschlossen – beendet" in page


@pytest.mark.parametrize("data, message, field", [
    ({"collection_starts_at": "2030-05-02T10:00", "collection_ends_at": "2030-05-01T10:00"},
     "Das Ende muss nach dem Beginn liegen.", "collection_ends_at"),
    ({"collection_starts_at": "2030-05-01T10:00", "collection_ends_at": ""},
     "Bitte geben Sie Beginn und Ende an oder lassen Sie beide leer.", "collection_ends_at"),
    ({"support_starts_at": "", "support_ends_at": "2030-05-01T10:00"},
     "Bitte geben Sie Beginn und Ende an oder lassen Sie beide leer.", "support_starts_at"),
    ({"collection_starts_at": "2030-03-31T02:30", "collection_ends_at": "2030-05-01T10:00"},
     "Diese Uhrzeit gibt es wegen der Umstellung auf Sommerzeit nicht.", "collection_starts_at"),
    ({"collection_starts_at": "morgen früh", "collection_ends_at": "2030-05-01T10:00"},
     None, "collection_starts_at"),
])
def test_phase_form_validation_changes_nothing(app, users, idea_setup, data, message, field):
    before = {kind: (phase(app, kind).starts_at, phase(app, kind).ends_at) for kind in ("collection", "support")}
    values = {"collection_starts_at": "2030-04-01T10:00", "collection_ends_at": "2030-04-30T10:00",
              "support_starts_at": "2030-05-01T10:00", "support_ends_at": "2030-05-31T10:00"}
    values.update(data)
    response = post_form(client_for(app, users["admin"]), PHASES, values)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "error-summary" in page
    assert f'id="{field}-fehler"' in page
    if message:
        assert message in page
    after = {kind: (phase(app, kind).starts_at, phase(app, kind).ends_at) for kind in ("collection", "support")}
    assert after == before
    assert audit(app, "phase.changed") == []


def test_clearing_both_dates_closes_a_phase(app, users, idea_setup, make_idea):
    idea_id = make_idea()
    client = client_for(app, users["admin"])
    post_form(client, PHASES, {"collection_starts_at": "", "collection_ends_at": "",
                               "support_starts_at": "", "support_ends_at": ""})
    assert phase(app, "collection").starts_at is None and phase(app, "support").ends_at is None
    page = client.get(PHASES).get_data(as_text=True)
    assert page.count("nicht festgelegt") == 2
    citizen = client_for(app, users["citizen"])
    assert "Der Zeitraum für die Ideensammlung steht noch nicht fest." in citizen.get("/ideen/neu").get_data(
        as_text=True)
    page = post_form(citizen, f"/ideen/{idea_id}/unterstuetzen", follow_redirects=True).get_data(as_text=True)
    assert "Die Unterstützungsphase ist derzeit geschlossen." in page


def test_phases_are_for_admins_only(app, users, idea_setup):
    for role in ("citizen", "member", "staff"):
        assert client_for(app, users[role]).get(PHASES).status_code == 403


# --- the announcement job -------------------------------------------------------------------------

def test_support_start_is_announced_exactly_once_to_active_citizens(app, users, make_user, idea_setup):
    settle_phases(app)
    now = utcnow()
    blocked = make_user()
    with app.app_context():
        person = db.session.get(services.User, blocked.id)
        person.blocked_at = now
        db.session.commit()
    put_phase(app, "support", now - timedelta(minutes=3), now + timedelta(days=14))

    sent = run_job(app)
    citizens = sorted([users["citizen"].id])
    assert sent == 1
    assert notified(app, "phase.support.started") == citizens  # no staff, no members, no blocked account
    [message] = mails(app, "Die Unterstützungsphase hat begonnen")
    assert message.recipient == users["citizen"].email
    assert "Die Unterstützungsphase hat begonnen." in message.body_text
    assert "http://localhost/ideen/" in message.body_text
    with app.app_context():
        note = db.session.scalar(db.select(Notification).where(Notification.kind == "phase.support.started"))
        assert note.url == "/ideen/"
    assert phase(app, "support").start_notified_at is not None

    # A second run (or a second scheduler) sends nothing more.
    assert run_job(app) == 0
    assert notified(app, "phase.support.started") == citizens
    assert len(mails(app, "Die Unterstützungsphase hat begonnen")) == 1


def test_two_phases_ending_and_starting_reach_the_right_people(app, users, make_user, make_idea):
    settle_phases(app)
    author, supporter, both, bystander = make_user(), make_user(), make_user(), make_user()
    first = make_idea(author=author)
    second = make_idea(author=both)
    hidden_author = make_user()
    hidden = make_idea(author=hidden_author)
    with app.app_context():
        now = utcnow()
        db.session.add_all([Support(idea_id=first, user_id=supporter.id), Support(idea_id=first, user_id=both.id),
                            Support(idea_id=second, user_id=supporter.id)])
        db.session.get(Idea, hidden).hidden_at = now
        db.session.commit()
    put_phase(app, "collection", now - timedelta(days=30), now - timedelta(minutes=2),
              start_notified_at=now - timedelta(days=30))
    put_phase(app, "support", now - timedelta(minutes=2), now + timedelta(days=20))

    run_job(app)
    assert notified(app, "phase.collection.ended") == sorted([author.id, both.id])
    citizens = sorted([users["citizen"].id, author.id, supporter.id, both.id, bystander.id, hidden_author.id])
    assert notified(app, "phase.support.started") == citizens
    assert len(mails(app, "Die Ideensammlung ist beendet")) == 2
    assert run_job(app) == 0

    # Later the support phase ends: authors and supporters, each once.
    with app.app_context():
        db.session.execute(db.update(Phase).where(Phase.kind == "support")
                           .values(ends_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    run_job(app)
    assert notified(app, "phase.support.ended") == sorted([author.id, supporter.id, both.id])
    assert run_job(app) == 0


def test_old_dates_are_marked_without_sending(app, users, idea_setup):
    now = utcnow()
    # The fixture phases started ten days ago and were never announced.
    put_phase(app, "support", now - timedelta(days=10), now - timedelta(days=3))
    assert run_job(app) == 0
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Notification.id))) == 0
        assert db.session.scalar(db.select(db.func.count(Phase.id)).where(Phase.start_notified_at.is_(None))) == 0
    support = phase(app, "support")
    assert support.start_notified_at is not None and support.end_notified_at is not None


def test_a_start_noticed_only_after_the_end_is_not_announced(app, users, idea_setup):
    settle_phases(app)
    now = utcnow()
    put_phase(app, "collection", now - timedelta(hours=5), now - timedelta(hours=1))
    run_job(app)
    assert notified(app, "phase.collection.started") == []
    assert notified(app, "phase.collection.ended") == []  # nobody has written an idea


def test_moving_a_start_into_the_future_announces_it_again(app, users, idea_setup):
    settle_phases(app)
    now = utcnow()
    with app.app_context():
        # A correction of a start that has passed is not announced again ...
        services.set_phase("collection", now - timedelta(days=9), now + timedelta(days=10))
        db.session.commit()
    assert phase(app, "collection").start_notified_at is not None
    with app.app_context():
        # ... but a start moved into the future is, once it comes.
        services.set_phase("collection", now + timedelta(hours=1), now + timedelta(days=10))
        db.session.commit()
    assert phase(app, "collection").start_notified_at is None
    assert run_job(app) == 0
    with app.app_context():
        db.session.execute(db.update(Phase).where(Phase.kind == "collection")
                           .values(starts_at=utcnow() - timedelta(seconds=5)))
        db.session.commit()
    run_job(app)
    everyone = sorted(user.id for user in users.values())
    assert notified(app, "phase.collection.started") == everyone
    [message] = [m for m in mails(app, "Die Ideensammlung hat begonnen") if m.recipient == users["citizen"].email]
    assert "/ideen/neu" in message.body_text


def test_the_claim_is_atomic(app, users, idea_setup):
    settle_phases(app)
    now = utcnow()
    put_phase(app, "support", now - timedelta(minutes=1), now + timedelta(days=1))
    with app.app_context():
        [event] = jobs.due_events()
        assert jobs.claim(event) is True
        assert jobs.claim(event) is False  # the same transaction cannot claim twice either
        db.session.rollback()
        # A run that read the phase before another one claimed it gets nothing.
        [stale] = jobs.due_events()
        db.session.rollback()
    assert run_job(app) == 1
    with app.app_context():
        assert jobs.claim(stale) is False
        db.session.rollback()
    # A date moved after the job read it: the claim does not match the old moment.
    put_phase(app, "support", now - timedelta(minutes=1), now + timedelta(days=1))
    with app.app_context():
        [event] = jobs.due_events()
        db.session.execute(db.update(Phase).where(Phase.kind == "support")
                           .values(starts_at=now - timedelta(minutes=2)))
        assert jobs.claim(event) is False
        db.session.rollback()


def test_two_schedulers_at_once_announce_once(app, users, make_user, idea_setup):
    settle_phases(app)
    for _ in range(12):
        make_user()
    now = utcnow()
    put_phase(app, "support", now - timedelta(minutes=1), now + timedelta(days=1))
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            with app.test_request_context("/"):
                barrier.wait(timeout=10)
                results.append(jobs.announce_phases())
                db.session.remove()
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(results) == [0, 13]
    assert len(notified(app, "phase.support.started")) == 13


def test_recipients_are_read_in_batches(app, users, make_user, idea_setup, monkeypatch, count_queries):
    settle_phases(app)
    for _ in range(6):
        make_user()
    monkeypatch.setattr(jobs, "BATCH_SIZE", 3)
    now = utcnow()
    put_phase(app, "support", now - timedelta(minutes=1), now + timedelta(days=1))
    with count_queries() as counter:
        assert run_job(app) == 7
    batch_reads = [s for s in counter.statements if "FROM users" in s and "LIMIT" in s]
    assert len(batch_reads) == 4  # 3 + 3 + 1, and the empty read that ends the loop
    assert len(set(notified(app, "phase.support.started"))) == 7


def test_the_job_is_registered_with_the_scheduler_and_runs_with_the_app(app, users, idea_setup):
    from beteiligung.scheduler import _jobs, build_scheduler

    assert (jobs.announce_phase_changes, "interval", {"minutes": 1}) in _jobs
    assert build_scheduler(app).get_job("announce_phase_changes") is not None
    settle_phases(app)
    now = utcnow()
    put_phase(app, "support", now - timedelta(minutes=1), now + timedelta(days=1))
    jobs.announce_phase_changes(app)
    assert notified(app, "phase.support.started") == [users["citizen"].id]


# --- fields of action and districts -------------------------------------------------------------

def test_admin_adds_renames_and_deactivates_a_district(app, users, make_idea):
    client = client_for(app, users["admin"])
    page = post_form(client, "/verwaltung/stadtteile", {"name": "  Jena-Nord  "},
                     follow_redirects=True).get_data(as_text=True)
    assert "Der Stadtteil „Jena-Nord“ ist angelegt (Kürzel: jena-nord)." in page
    with app.app_context():
        district = db.session.scalar(db.select(District).where(District.code == "jena-nord"))
        assert district.active and district.position == 5
        district_id = district.id
    [created] = audit(app, "district.created")
    assert created.actor_id == users["admin"].id and created.new_values["code"] == "jena-nord"

    # Names are unique regardless of case; nothing is added.
    page = post_form(client, "/verwaltung/stadtteile", {"name": "JENA-NORD"}).get_data(as_text=True)
    assert "Einen Stadtteil mit diesem Namen gibt es bereits." in page
    # A different name with the same slug gets a code of its own.
    post_form(client, "/verwaltung/stadtteile", {"name": "Jena Nord"})
    with app.app_context():
        assert db.session.scalar(db.select(District.code).where(District.name == "Jena Nord")) == "jena-nord-2"

    idea_id = make_idea(district="jena-nord")
    post_form(client, f"/verwaltung/stadtteile/{district_id}", {"name": "Jena-Nord (Zwätzen)", "active": "y"})
    with app.app_context():
        district = db.session.get(District, district_id)
        assert (district.name, district.code) == ("Jena-Nord (Zwätzen)", "jena-nord")
    [changed] = audit(app, "district.changed")
    assert changed.old_values == {"name": "Jena-Nord"} and changed.new_values == {"name": "Jena-Nord (Zwätzen)"}

    post_form(client, f"/verwaltung/stadtteile/{district_id}", {"name": "Jena-Nord (Zwätzen)"})  # unchecked
    with app.app_context():
        assert db.session.get(District, district_id).active is False
    form = client_for(app, users["citizen"]).get("/ideen/neu").get_data(as_text=True)
    assert "Jena-Nord (Zwätzen)" not in form and "Lobeda-Ost" in form
    # The idea keeps its district.
    assert "Jena-Nord (Zwätzen)" in client.get(f"/ideen/{idea_id}").get_data(as_text=True)
    assert audit(app, "district.changed")[-1].new_values == {"active": False}


def test_the_last_active_district_stays_active(app, users, idea_setup):
    client = client_for(app, users["admin"])
    with app.app_context():
        districts = db.session.scalars(db.select(District).order_by(District.id)).all()
        for district in districts[1:]:
            district.active = False
        db.session.commit()
        last = districts[0]
        last_id, last_name = last.id, last.name
    page = post_form(client, f"/verwaltung/stadtteile/{last_id}", {"name": last_name}).get_data(as_text=True)
    assert "Mindestens ein Stadtteil muss aktiv bleiben" in page
    with app.app_context():
        assert db.session.get(District, last_id).active


def test_districts_can_be_reordered(app, users, idea_setup):
    client = client_for(app, users["admin"])
    with app.app_context():
        winzerla = db.session.scalar(db.select(District).where(District.code == "winzerla"))
        winzerla_id, old_position = winzerla.id, winzerla.position
    assert old_position == 3
    page = post_form(client, f"/verwaltung/stadtteile/{winzerla_id}/verschieben", {"richtung": "hoch"},
                     follow_redirects=True).get_data(as_text=True)
    assert "„Winzerla“ steht jetzt an Position 2." in page
    assert page.index("Winzerla") < page.index("Lobeda-Ost")
    [moved] = audit(app, "district.moved")
    assert moved.old_values == {"position": 3} and moved.new_values == {"position": 2}
    form = client_for(app, users["citizen"]).get("/ideen/neu").get_data(as_text=True)
    assert form.index("Winzerla") < form.index("Lobeda-Ost")
    # At the top there is nowhere to go.
    with app.app_context():
        first_id = db.session.scalar(db.select(District.id).order_by(District.position).limit(1))
    page = post_form(client, f"/verwaltung/stadtteile/{first_id}/verschieben", {"richtung": "hoch"},
                     follow_redirects=True).get_data(as_text=True)
    assert "steht bereits am Rand der Liste" in page


def test_admin_adds_and_edits_a_field_of_action(app, users, idea_setup):
    client = client_for(app, users["admin"])
    page = post_form(client, "/verwaltung/handlungsfelder", {
        "name": "Klimaanpassung", "description": "Hitze, Starkregen, Stadtgrün.",
        "seed_terms": "Hitze, Starkregen,\nhitze, Schatten ,", "position": "", "active": "y",
    }, follow_redirects=True).get_data(as_text=True)
    assert "Das Handlungsfeld „Klimaanpassung“ ist angelegt." in page
    with app.app_context():
        sector = db.session.scalar(db.select(Sector).where(Sector.name == "Klimaanpassung"))
        assert (sector.code, sector.seed_terms, sector.position, sector.active) == (
            "klimaanpassung", "Hitze, Starkregen, Schatten", 7, True)
        sector_id = sector.id
    assert audit(app, "sector.created")[0].actor_id == users["admin"].id

    page = post_form(client, "/verwaltung/handlungsfelder", {"name": "mobilität"}).get_data(as_text=True)
    assert "Ein Handlungsfeld mit diesem Namen gibt es bereits." in page

    page = client.get(f"/verwaltung/handlungsfelder/{sector_id}").get_data(as_text=True)
    assert 'value="Klimaanpassung"' in page and "Hitze, Starkregen, Schatten" in page
    post_form(client, f"/verwaltung/handlungsfelder/{sector_id}", {
        "name": "Klimaanpassung und Stadtgrün", "description": "Hitze, Starkregen, Stadtgrün.",
        "seed_terms": "Hitze, Starkregen, Schatten", "position": "0",
    })
    with app.app_context():
        sector = db.session.get(Sector, sector_id)
        assert (sector.name, sector.position, sector.active, sector.code) == (
            "Klimaanpassung und Stadtgrün", 0, False, "klimaanpassung")
    [changed] = audit(app, "sector.changed")
    assert changed.new_values == {"name": "Klimaanpassung und Stadtgrün", "position": 0, "active": False}
    form = client_for(app, users["citizen"]).get("/ideen/neu").get_data(as_text=True)
    assert "Klimaanpassung" not in form and "Mobilität" in form

    page = post_form(client, f"/verwaltung/handlungsfelder/{sector_id}", {
        "name": "Klimaanpassung und Stadtgrün", "position": "-3", "active": "y"}).get_data(as_text=True)
    assert "Bitte eine Zahl von 0 bis 10000." in page


def test_reference_data_is_for_admins_only(app, users, idea_setup):
    for role in ("citizen", "member", "staff"):
        client = client_for(app, users[role])
        assert client.get("/verwaltung/stadtteile").status_code == 403
        assert post_form(client, "/verwaltung/handlungsfelder", {"name": "Heimlich"}).status_code == 403
    with app.app_context():
        assert db.session.scalar(db.select(Sector.id).where(Sector.name == "Heimlich")) is None
