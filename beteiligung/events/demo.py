"""Demo content of the events: ten themed workshops (some past with results, some full with a
waiting list) and the citizen events, with registrations of the demo citizens.

The texts live in demo_data/veranstaltungen.txt (format in demo_data/FORMAT.md). Dates are
relative to the week the demo is loaded. The step runs after the ideas (30): the demo ideas
from an event carry its name, and the event of that name gets them (`Idea.event_id`).
Registrations are replayed with the platform's rules (seat or waiting list, moving up on a
cancellation); rows are written directly, so no notification and no e-mail is created.
"""
import random
import re
from datetime import datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select, update

from ..auth.models import User
from ..demo import DEMO_LOGINS, demo_step
from ..extensions import db
from ..ideas.models import Idea, Sector
from ..meetings.demo import LOCAL, demo_accounts, read_blocks, split, to_utc
from ..meetings.models import new_uid
from ..models import utcnow
from ..roles import Role
from .models import Event, EventKind, EventStatus, Registration, RegistrationMode, RegistrationStatus

DEMO_DIR = Path(__file__).parent / "demo_data"
SEED = 2035
DEMO_CITIZEN = DEMO_LOGINS[3][0]

KEYS = {"Art", "Thema", "Handlungsfeld", "Termin", "Ort", "Online", "Moderation", "Anmeldung", "Plätze",
        "Anmeldeschluss", "Beschreibung", "Ergebnisse", "Anmeldungen", "Demo-Bürgerin", "Hinweis"}
REQUIRED = ("Art", "Thema", "Handlungsfeld", "Termin", "Ort", "Moderation", "Anmeldung", "Beschreibung")
KINDS = {"Themen-Werkstatt": EventKind.WORKSHOP, "Bürgerveranstaltung": EventKind.CITIZEN_EVENT}
MODES = {"erforderlich": RegistrationMode.REQUIRED, "erwünscht": RegistrationMode.OPTIONAL,
         "keine": RegistrationMode.NONE}
WEEKDAYS = {"Mo": 0, "Di": 1, "Mi": 2, "Do": 3, "Fr": 4, "Sa": 5, "So": 6}
ANNOUNCED_DAYS = 35  # registration opens this long before an event (or when the process began)
PROCESS_OPENED_DAYS = 40  # ... all dates of the process were announced about this long ago

_TERMIN = re.compile(r"^([+-]\d+) (Mo|Di|Mi|Do|Fr|Sa|So) (\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
_COUNTS = re.compile(r"^(\d+) angemeldet \| (\d+) Warteliste \| (\d+) abgemeldet$")


def read_demo_events():
    path = DEMO_DIR / "veranstaltungen.txt"
    blocks = read_blocks(path.read_text(encoding="utf-8"), path.name, marker="===", keys=KEYS,
                         repeatable={"Hinweis"})
    for block in blocks:
        missing = [key for key in REQUIRED if not block.get(key)]
        if missing:
            block.fail(f"es fehlt: {', '.join(missing)}")
        if block.get("Art") not in KINDS:
            block.fail("Art: Themen-Werkstatt | Bürgerveranstaltung", "Art")
        if block.get("Anmeldung") not in MODES:
            block.fail("Anmeldung: erforderlich | erwünscht | keine", "Anmeldung")
        if not _TERMIN.match(block.get("Termin")) or int(block.get("Termin").split()[0]) == 0:
            block.fail("Termin: <±Wochen, nicht 0> <Wochentag> <HH:MM>-<HH:MM>", "Termin")
        if block.get("Anmeldungen") and not _COUNTS.match(block.get("Anmeldungen")):
            block.fail("Anmeldungen: <n> angemeldet | <n> Warteliste | <n> abgemeldet", "Anmeldungen")
    return blocks


def local_week_start(now):
    today = now.astimezone(LOCAL).date()
    return today - timedelta(days=today.weekday())


def in_christmas_holidays(day):
    return (day.month == 12 and day.day >= 21) or (day.month == 1 and day.day <= 6)


def event_times(termin, week_start):
    """Start and end (UTC) of "<±weeks> <weekday> <HH:MM>-<HH:MM>"; no event between Christmas and
    Epiphany: such a date moves by whole weeks, away from the load day (past stays past)."""
    weeks, weekday, start_h, start_m, end_h, end_m = _TERMIN.match(termin).groups()
    day = week_start + timedelta(weeks=int(weeks), days=WEEKDAYS[weekday])
    while in_christmas_holidays(day):
        day += timedelta(weeks=1 if int(weeks) > 0 else -1)
    return (to_utc(datetime.combine(day, time(int(start_h), int(start_m)))),
            to_utc(datetime.combine(day, time(int(end_h), int(end_m)))))


def replay(signups, cancellations, capacity):
    """Apply sign-ups and cancellations in time order with the platform's rules.

    `signups`: [(moment, key)], `cancellations`: {key: moment}. Returns {key: (status,
    confirmed_at, cancelled_at)}. A sign-up takes a seat while one is free, otherwise it waits;
    a cancelled seat goes to the first on the waiting list at the moment of the cancellation.
    """
    moments = [(moment, 0, key) for moment, key in signups]
    moments += [(moment, 1, key) for key, moment in cancellations.items()]
    state, waiting, seats = {}, [], 0
    for moment, kind, key in sorted(moments, key=lambda item: (item[0], item[1])):
        if kind == 0:
            if capacity is None or seats < capacity:
                state[key] = (RegistrationStatus.CONFIRMED, moment, None)
                seats += 1
            else:
                state[key] = (RegistrationStatus.WAITING, None, None)
                waiting.append(key)
            continue
        status, confirmed_at, _ = state[key]
        state[key] = (RegistrationStatus.CANCELLED, confirmed_at, moment)
        if status is RegistrationStatus.WAITING:
            waiting.remove(key)
        elif waiting:
            first = waiting.pop(0)
            state[first] = (RegistrationStatus.CONFIRMED, moment, None)
        else:
            seats -= 1
    return state


class _Loader:
    def __init__(self, now):
        self.now = now
        self.rng = random.Random(SEED)
        self.week_start = local_week_start(now)
        self.sectors = {sector.code: sector for sector in db.session.scalars(select(Sector))}
        self.accounts, _people = demo_accounts()
        self.citizen = self.accounts[DEMO_CITIZEN]
        self.registrants = db.session.scalars(
            select(User).where(User.role == Role.CITIZEN.value, User.id != self.citizen.id).order_by(User.id)).all()

    def load(self):
        for block in read_demo_events():
            self._event(block)
        db.session.flush()

    def _event(self, block):
        starts, ends = event_times(block.get("Termin"), self.week_start)
        past = int(block.get("Termin").split()[0]) < 0
        ideas = db.session.execute(select(Idea.id, Idea.created_at).where(Idea.event_name == block.header)).all()
        if ideas:  # the cards were entered after the event: move it back by whole weeks if needed
            first_entry = min(created for _id, created in ideas)
            while ends > first_entry - timedelta(hours=12):
                starts, ends = starts - timedelta(weeks=1), ends - timedelta(weeks=1)
        if ideas and not past:
            block.fail("Demo-Ideen gibt es nur aus vergangenen Veranstaltungen", "Termin")
        if block.get("Ergebnisse") and not past:
            block.fail("Ergebnisse nur bei vergangenen Veranstaltungen", "Ergebnisse")
        if block.get("Demo-Bürgerin") and past:
            block.fail("die Demo-Bürgerin meldet sich nur für künftige Veranstaltungen an", "Demo-Bürgerin")
        sector = self.sectors.get(block.get("Handlungsfeld"))
        if sector is None:
            block.fail(f"unbekanntes Handlungsfeld „{block.get('Handlungsfeld')}“", "Handlungsfeld")
        mode = MODES[block.get("Anmeldung")]
        capacity = int(block.get("Plätze")) if block.get("Plätze") else None
        facilitator = split(block.get("Moderation"))
        opens = min(starts - timedelta(days=ANNOUNCED_DAYS), self.now - timedelta(days=PROCESS_OPENED_DAYS))
        event = Event(kind=KINDS[block.get("Art")].value, title=block.header[:200], topic=block.get("Thema")[:200],
                      sector=sector, description=block.get("Beschreibung"), starts_at=starts, ends_at=ends,
                      place=block.get("Ort")[:300], online_url=block.get("Online", ""),
                      facilitator=facilitator[0][:120], registration=mode.value,
                      capacity=capacity if mode is not RegistrationMode.NONE else None,
                      registration_closes_at=(starts - timedelta(days=int(block.get("Anmeldeschluss")))
                                              if block.get("Anmeldeschluss") else None),
                      published=True, status=EventStatus.SCHEDULED.value, uid=new_uid("event"),
                      results_note=block.get("Ergebnisse", ""), confirmed_count=0)
        if len(facilitator) > 1:
            event.facilitator_user_id = self._account(facilitator[1], block).id
        event.created_at = event.updated_at = opens - timedelta(days=2)
        db.session.add(event)
        db.session.flush()
        if ideas:
            db.session.execute(update(Idea).where(Idea.event_name == block.header).values(event_id=event.id)
                               .execution_options(synchronize_session=False))
        if block.get("Anmeldungen"):
            if mode is RegistrationMode.NONE:
                block.fail("ohne Anmeldung keine Anmeldungen", "Anmeldungen")
            self._registrations(event, block, opens)

    def _account(self, email, block):
        if email not in self.accounts:
            block.fail(f"„{email}“ ist kein Demo-Zugang")
        return self.accounts[email]

    def _registrations(self, event, block, opens):
        confirmed, waiting, cancelled = map(int, _COUNTS.match(block.get("Anmeldungen")).groups())
        capacity = event.capacity
        if capacity is not None and confirmed > capacity:
            block.fail("mehr Anmeldungen als Plätze", "Anmeldungen")
        if waiting and confirmed != capacity:
            block.fail("eine Warteliste gibt es nur, wenn alle Plätze vergeben sind", "Anmeldungen")
        closes = min(event.registration_closes_at or event.starts_at, event.starts_at, self.now)
        others_close = closes - timedelta(days=1)  # the demo citizen signs up after everyone else
        span = (others_close - opens).total_seconds()
        total = confirmed + waiting + cancelled
        people = self.rng.sample(self.registrants, total)
        signups = sorted((opens + timedelta(seconds=span * self.rng.random() ** 1.5), index) for index in range(total))
        cancelling = self.rng.sample(range(total), cancelled)
        moment_of = {index: moment for moment, index in signups}
        cancellations = {index: moment_of[index] + (others_close - moment_of[index]) * self.rng.uniform(0.2, 0.9)
                         for index in cancelling}
        demo_citizen = block.get("Demo-Bürgerin")
        if demo_citizen:
            signups.append((closes - timedelta(hours=self.rng.randint(3, 20)), "citizen"))
        state = replay(signups, cancellations, capacity)
        expected = "Warteliste" if capacity is not None and confirmed == capacity else "angemeldet"
        if demo_citizen and demo_citizen != expected:
            block.fail(f"die Demo-Bürgerin wäre hier „{expected}“", "Demo-Bürgerin")
        notes = list(block.values("Hinweis"))
        confirmed_keys = [key for key, (status, *_r) in state.items() if status is RegistrationStatus.CONFIRMED
                          and key != "citizen"]
        noted = dict(zip(self.rng.sample(confirmed_keys, min(len(notes), len(confirmed_keys))), notes))
        for moment, key in signups:
            status, confirmed_at, cancelled_at = state[key]
            user = self.citizen if key == "citizen" else people[key]
            db.session.add(Registration(event_id=event.id, user_id=user.id, status=status.value, created_at=moment,
                                        confirmed_at=confirmed_at, cancelled_at=cancelled_at,
                                        note=noted.get(key, "")[:300]))
        counts = [status for status, *_r in state.values()]
        event.confirmed_count = counts.count(RegistrationStatus.CONFIRMED)
        if demo_citizen:
            counts.remove(RegistrationStatus.WAITING if expected == "Warteliste" else RegistrationStatus.CONFIRMED)
        if (counts.count(RegistrationStatus.CONFIRMED), counts.count(RegistrationStatus.WAITING),
                counts.count(RegistrationStatus.CANCELLED)) != (confirmed, waiting, cancelled):
            block.fail("die Anmeldungen ergeben nicht den angegebenen Stand", "Anmeldungen")


@demo_step(40)
def load_demo_events():
    _Loader(utcnow()).load()
