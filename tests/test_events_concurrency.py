"""Registrations under concurrency, through the web pages, on SQLite (file, WAL) and PostgreSQL.

Every request runs in its own thread with its own signed-in test client, released together
by a barrier. What must hold: 30 people on 10 seats give exactly 10 confirmed and 20 on the
waiting list with `confirmed_count == 10`; one person pressing ten times gets one
registration; ten cancellations at once move exactly the first ten of the waiting list up,
in order; and a mix of registrations and cancellations never exceeds the capacity.
"""
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from beteiligung.events import services
from beteiligung.events.models import Event, Registration
from beteiligung.extensions import db
from beteiligung.meetings.models import new_uid
from beteiligung.models import utcnow
from beteiligung.notifications.models import Notification

from .conftest import csrf_token, login_as

TIMEOUT = 120


@pytest.fixture
def event_with_seats(app):
    def make(capacity):
        with app.app_context():
            start = utcnow() + timedelta(days=10)
            event = Event(kind="workshop", title="Werkstatt Solar", starts_at=start, ends_at=start + timedelta(hours=2),
                          place="Rathaus", capacity=capacity, uid=new_uid("event"))
            db.session.add(event)
            db.session.commit()
            return event.id

    return make


def signed_in_clients(app, people):
    """One test client per person, signed in, with its CSRF token."""
    clients = []
    for person in people:
        client = login_as(app.test_client(), person)
        clients.append((client, csrf_token(client)))
    return clients


def run_together(jobs):
    """Run the jobs (functions without arguments) in threads released at once; their results in order."""
    barrier = threading.Barrier(len(jobs))
    results, errors = [None] * len(jobs), []

    def work(position, job):
        try:
            barrier.wait(timeout=TIMEOUT)
            results[position] = job()
        except BaseException as error:  # reported in the test's own thread below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n, job), daemon=True) for n, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "requests did not finish"
    if errors:
        raise errors[0]
    return results


def post(client, token, path):
    from beteiligung.forms import form_started_token

    with client.application.app_context():  # the registration form's bot trap, as a browser sends it
        data = {"csrf_token": token, "form_started": form_started_token(), "homepage": ""}
    return lambda: client.post(path, data=data).status_code


def figures(app, event_id):
    """(confirmed rows, waiting rows, the event's counter, waiting user ids in order)."""
    with app.app_context():
        def count(status):
            return db.session.scalar(select(func.count(Registration.id))
                                     .where(Registration.event_id == event_id, Registration.status == status))
        event = db.session.get(Event, event_id)
        order = [r.user_id for r in services.waiting_list(event)]
        return count("confirmed"), count("waiting"), event.confirmed_count, order


def test_30_people_on_10_seats_give_10_confirmed_and_20_waiting(app, make_user, event_with_seats):
    event_id = event_with_seats(10)
    people = [make_user() for _ in range(30)]
    clients = signed_in_clients(app, people)
    path = f"/veranstaltungen/{event_id}/anmelden"
    statuses = run_together([post(client, token, path) for client, token in clients])
    assert statuses == [302] * 30, statuses
    confirmed, waiting, counter, order = figures(app, event_id)
    assert (confirmed, waiting, counter) == (10, 20, 10)
    assert len(order) == 20
    with app.app_context():
        positions = [services.waiting_position(r) for r in services.waiting_list(db.session.get(Event, event_id))]
    assert positions == list(range(1, 21))


def test_one_person_pressing_ten_times_at_once_registers_once(app, make_user, event_with_seats):
    event_id = event_with_seats(10)
    person = make_user()
    clients = signed_in_clients(app, [person] * 10)
    path = f"/veranstaltungen/{event_id}/anmelden"
    statuses = run_together([post(client, token, path) for client, token in clients])
    assert statuses == [302] * 10, statuses
    assert figures(app, event_id)[:3] == (1, 0, 1)
    with app.app_context():
        assert db.session.scalar(select(func.count(Notification.id))
                                 .where(Notification.kind == "event.registered")) == 1


def test_ten_cancellations_at_once_move_the_first_ten_up_in_order(app, make_user, event_with_seats):
    event_id = event_with_seats(10)
    people = [make_user() for _ in range(25)]
    with app.test_request_context():
        event = db.session.get(Event, event_id)
        from beteiligung.auth.models import User

        for person in people:
            services.register(event, db.session.get(User, person.id))
            db.session.commit()
    _c, _w, _n, order_before = figures(app, event_id)
    assert order_before == [person.id for person in people[10:]]
    clients = signed_in_clients(app, people[:10])
    path = f"/veranstaltungen/{event_id}/abmelden"
    statuses = run_together([post(client, token, path) for client, token in clients])
    assert statuses == [302] * 10, statuses
    confirmed, waiting, counter, order = figures(app, event_id)
    assert (confirmed, waiting, counter) == (10, 5, 10)
    assert order == [person.id for person in people[20:]]
    with app.app_context():
        moved = set(db.session.scalars(select(Notification.user_id).where(Notification.kind == "event.moved_up")))
    assert moved == {person.id for person in people[10:20]}


def test_a_mix_of_registrations_and_cancellations_never_exceeds_the_capacity(app, make_user, event_with_seats):
    event_id = event_with_seats(5)
    early = [make_user() for _ in range(8)]
    with app.test_request_context():
        from beteiligung.auth.models import User

        for person in early:
            services.register(db.session.get(Event, event_id), db.session.get(User, person.id))
            db.session.commit()
    late = [make_user() for _ in range(12)]
    cancelling = signed_in_clients(app, early[:4] + early[6:8])  # four confirmed, two waiting
    registering = signed_in_clients(app, late)
    jobs = [post(client, token, f"/veranstaltungen/{event_id}/abmelden") for client, token in cancelling]
    jobs += [post(client, token, f"/veranstaltungen/{event_id}/anmelden") for client, token in registering]
    statuses = run_together(jobs)
    assert statuses == [302] * len(jobs), statuses
    confirmed, waiting, counter, _order = figures(app, event_id)
    assert confirmed == counter == 5
    assert waiting == 8 + 12 - 6 - 5
    with app.app_context():  # the one who waited before the rush got the first freed seat
        assert db.session.scalar(select(Registration.status).where(Registration.user_id == early[5].id)) == "confirmed"
