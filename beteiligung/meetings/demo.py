"""Demo content of the bodies: the Arbeitskreis Klimaschutz with about 36 members and its
monthly series (agendas, minutes, decisions, action items, attendance), and the internal
Lenkungskreis with a few single dates.

The texts live in demo_data/*.txt (format in demo_data/FORMAT.md); this module parses them and
places them in time relative to the day the demo is loaded: the series starts so that nine of
its dates are past, and its dates are stored up to about four months ahead. Rows are written
directly (no services, no notifications, no e-mails), after the ideas and the measure plan, so
agenda items can link both.
"""
import random
import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from sqlalchemy import select

from ..auth.models import User
from ..demo import DEMO_LOGINS, demo_step
from ..extensions import db
from ..ideas.models import Idea
from ..measures.demo import read_demo_measures
from ..measures.models import Measure
from ..models import utcnow
from .models import (ActionItem, ActionStatus, AgendaItem, AgendaMaterial, AgendaStatus, Attendance,
                     AttendanceStatus, Body, BodyKind, BodyMember, Meeting, MeetingSeries, MeetingStatus, new_uid)

DEMO_DIR = Path(__file__).parent / "demo_data"
SEED = 2035
LOCAL = ZoneInfo("Europe/Berlin")
PAST_DATES = 9  # dates of the series that lie in the past when the demo is loaded
HORIZON_DAYS = 122  # dates of the series are stored up to about four months ahead
DEPUTY_ROLE = "Stellvertretung"

KINDS = {"Arbeitskreis": BodyKind.WORKING_GROUP, "Lenkungskreis": BodyKind.STEERING_GROUP}
VISIBILITY = {"öffentlich": True, "intern": False}
BODY_KEYS = {"Beschreibung", "Ort", "Online", "Serie", "Vorlauf", "Vorschlagsfrist", "Mitglied"}
MEETING_KEYS = {"Tagesordnung", "Verlegt", "Ort", "Abgesagt"}
ITEM_KEYS = {"Vortrag", "Dauer", "Beschreibung", "Unterlage", "Ideen", "Ideen aus", "Maßnahmen",
             "Vorgeschlagen von", "Status", "Diskussion", "Beschluss", "Aufgabe"}
REPEATABLE = {"Mitglied", "Unterlage", "Aufgabe"}
MINUTES_KEYS = {"Diskussion", "Beschluss", "Aufgabe"}

_KEY_LINE = re.compile(r"^([A-Za-zÄÖÜäöüß][A-Za-zÄÖÜäöüß -]*?):(?:\s+(.*))?$")
_DAY_REF = re.compile(r"^S(\d+)([+-]\d+)?$")
_SINGLE_DATE = re.compile(r"^(S\d+(?:[+-]\d+)?) (\d{1,2}):(\d{2}) (\d+)$")


# --- the file layout (shared with the events demo) -----------------------------------------------

@dataclass
class Entry:
    key: str
    value: str
    line: int
    pending_break: bool = False

    def add(self, text):
        """A continuation line: joined with a blank, or a new paragraph after an empty line."""
        separator = "\n\n" if self.pending_break else " "
        self.value = (self.value + separator + text) if self.value else text
        self.pending_break = False


@dataclass
class Block:
    header: str
    line: int
    source: str
    entries: list = field(default_factory=list)
    parts: list = field(default_factory=list)  # sub-blocks (agenda items)

    def get(self, key, default=None):
        return next((entry.value for entry in self.entries if entry.key == key), default)

    def values(self, key):
        return [entry.value for entry in self.entries if entry.key == key]

    def line_of(self, key):
        return next((entry.line for entry in self.entries if entry.key == key), self.line)

    def fail(self, message, key=None):
        raise ValueError(f"{self.source}:{self.line_of(key) if key else self.line}: {message}")


def read_blocks(text, source_name, *, marker, keys, part_marker=None, part_keys=frozenset(),
                repeatable=frozenset()):
    """Blocks "<marker> header" with "Key: value" lines and optional parts "<part_marker> header".

    Values continue on lines that start with two spaces; an empty line before such a line makes
    a new paragraph. Raises ValueError "<file>:<line>: …" on anything unexpected.
    """
    def fail(number, message):
        raise ValueError(f"{source_name}:{number}: {message}")

    blocks, block, target, last = [], None, None, None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if line.startswith(marker + " "):
            block = Block(line[len(marker) + 1:].strip(), number, source_name)
            blocks.append(block)
            target, last = block, None
            continue
        if part_marker and line.startswith(part_marker + " "):
            if block is None:
                fail(number, f"„{part_marker}“ vor dem ersten Block")
            part = Block(line[len(part_marker) + 1:].strip(), number, source_name)
            block.parts.append(part)
            target, last = part, None
            continue
        if not line.strip():
            if last is not None:
                last.pending_break = True
            continue
        if raw.startswith("  "):
            if last is None:
                fail(number, "eingerückte Zeile ohne Schlüssel davor")
            last.add(raw.strip())
            continue
        if line.startswith("#"):
            continue
        if target is None:
            fail(number, "Text vor dem ersten Block")
        match = _KEY_LINE.match(line)
        allowed = keys if target is block else part_keys
        if not match or match[1] not in allowed:
            fail(number, f"„Schlüssel: Wert“ erwartet, nicht „{line[:60]}“")
        key = match[1]
        if key not in repeatable and any(entry.key == key for entry in target.entries):
            fail(number, f"„{key}“ steht doppelt in diesem Block")
        last = Entry(key, (match[2] or "").strip(), number)
        target.entries.append(last)
    return blocks


def split(value, separator="|"):
    return [part.strip() for part in value.split(separator)]


def to_utc(local_naive):
    """A naive Europe/Berlin time as an aware UTC time."""
    return local_naive.replace(tzinfo=LOCAL).astimezone(timezone.utc)


def demo_accounts():
    """Demo logins by e-mail and by the person's name (display name without the part in brackets)."""
    users = db.session.scalars(select(User).where(User.email.in_([email for email, *_ in DEMO_LOGINS]))).all()
    by_email = {user.email: user for user in users}
    by_name = {user.display_name.split(" (")[0].strip(): user for user in users}
    return by_email, by_name


# --- reading the files ---------------------------------------------------------------------------

def read_bodies():
    path = DEMO_DIR / "gremien.txt"
    return read_blocks(path.read_text(encoding="utf-8"), path.name, marker="##", keys=BODY_KEYS,
                       repeatable=REPEATABLE)


def read_sessions(name):
    path = DEMO_DIR / name
    return read_blocks(path.read_text(encoding="utf-8"), path.name, marker="===", keys=MEETING_KEYS,
                       part_marker="---", part_keys=ITEM_KEYS, repeatable=REPEATABLE)


def series_dates(rule, start, duration, now):
    """Local start times of the series: the last PAST_DATES before `now`, then up to HORIZON_DAYS ahead."""
    local_now = now.astimezone(LOCAL).replace(tzinfo=None)
    probe = datetime.combine(local_now.date().replace(day=1) - timedelta(days=2 * 366), start)
    horizon = local_now + timedelta(days=HORIZON_DAYS)
    candidates = rrulestr(rule, dtstart=probe).between(probe, horizon, inc=True)
    past = [moment for moment in candidates if to_utc(moment + duration) <= now]
    first = past[-PAST_DATES]
    # the stored series starts at `first`; its own expansion must give the same dates
    dates = rrulestr(rule, dtstart=first).between(first, horizon, inc=True)
    assert dates == [moment for moment in candidates if moment >= first]
    return dates


def day_of(reference, dates, source):
    match = _DAY_REF.match(reference)
    if not match or not 1 <= int(match[1]) <= len(dates):
        raise ValueError(f"{source}: Termin „{reference}“: S<Nummer>[±Tage] mit einer Nummer bis {len(dates)}")
    return dates[int(match[1]) - 1].date() + timedelta(days=int(match[2] or 0))


# --- loading ---------------------------------------------------------------------------------------

class _Loader:
    def __init__(self, now):
        self.now = now
        self.rng = random.Random(SEED)
        self.accounts, self.people = demo_accounts()
        ideas = db.session.execute(select(Idea.id, Idea.title, Idea.event_name).order_by(Idea.id)).all()
        self.idea_by_title = {}
        self.ideas_by_event = {}
        for idea_id, title, event_name in ideas:
            self.idea_by_title.setdefault(title, idea_id)
            if event_name:
                self.ideas_by_event.setdefault(event_name, []).append(idea_id)
        measures = {measure.title: measure for measure in db.session.scalars(select(Measure))}
        self.measure_by_topic = {}
        for sheet in read_demo_measures():
            for topic in sheet.topics:
                if sheet.title in measures:
                    self.measure_by_topic.setdefault(topic, measures[sheet.title])

    def account(self, email, block, key):
        if email not in self.accounts:
            block.fail(f"„{email}“ ist kein Demo-Zugang", key)
        return self.accounts[email]

    # bodies and members

    def load_bodies(self):
        blocks = read_bodies()
        series_blocks = [block for block in blocks if block.get("Serie")]
        if len(series_blocks) != 1:
            raise ValueError("gremien.txt: genau ein Gremium braucht eine „Serie“")
        rule, start, minutes, title = split(series_blocks[0].get("Serie"))
        hour, minute = map(int, start.split(":"))
        self.duration = timedelta(minutes=int(minutes))
        self.dates = series_dates(rule, time(hour, minute), self.duration, self.now)
        self.bodies = {}
        for block in blocks:
            slug, name, kind, visibility = split(block.header)
            if kind not in KINDS or visibility not in VISIBILITY:
                block.fail("Kopf: ## <slug> | <Name> | Arbeitskreis|Lenkungskreis | öffentlich|intern")
            body = Body(slug=slug, name=name, kind=KINDS[kind].value, public=VISIBILITY[visibility],
                        description=block.get("Beschreibung", ""),
                        agenda_lead_days=int(block.get("Vorlauf", 7)),
                        proposal_deadline_days=int(block.get("Vorschlagsfrist", 10)))
            body.created_at = body.updated_at = to_utc(self.dates[0] - timedelta(days=70))
            db.session.add(body)
            members = [self._member(body, line_value, block) for line_value in block.values("Mitglied")]
            self.bodies[slug] = (body, block, members)
            if block is series_blocks[0]:
                series = MeetingSeries(body=body, title=title, rrule=rule, first_start_local=self.dates[0],
                                       duration_minutes=int(minutes), place=block.get("Ort", ""),
                                       online_url=block.get("Online", ""))
                series.created_at = series.updated_at = body.created_at + timedelta(days=14)
                db.session.add(series)
                self.series = series
        db.session.flush()

    def _member(self, body, value, block):
        parts = split(value)
        if len(parts) not in (5, 6):
            block.fail(f"Mitglied: <Name> | <Organisation> | <Rolle> | <von> | <bis> [| <E-Mail>], nicht „{value}“",
                       "Mitglied")
        name, organisation, role, start, end = parts[:5]
        member = BodyMember(body=body, name=name, organisation=organisation, role=role,
                            from_date=day_of(start, self.dates, block.source),
                            to_date=None if end == "-" else day_of(end, self.dates, block.source))
        if len(parts) == 6:
            member.user = self.account(parts[5], block, "Mitglied")
        db.session.add(member)
        return member

    # meetings

    def load_series_meetings(self, slug, file_name):
        body, body_block, members = self.bodies[slug]
        sessions = {}
        for block in read_sessions(file_name):
            number = block.header.split("|")[0].strip()
            if not number.isdigit() or not 1 <= int(number) <= len(self.dates):
                block.fail(f"Kopf: === <Nummer des Termins 1-{len(self.dates)}> | <Titel>")
            sessions[int(number)] = block
        for number, local_start in enumerate(self.dates, start=1):
            block = sessions.get(number)
            moved = int(block.get("Verlegt", "0")) if block else 0
            title = split(block.header)[1] if block else self.series.title
            if block and "Sitzung" not in title:
                title = f"{number}. Sitzung: {title}"
            self._meeting(body, body_block, block, title, local_start + timedelta(days=moved), self.duration,
                          members, series=self.series, original_start=to_utc(local_start))

    def load_single_meetings(self, slug, file_name):
        body, body_block, members = self.bodies[slug]
        for block in read_sessions(file_name):
            when, title = split(block.header)
            match = _SINGLE_DATE.match(when)
            if not match:
                block.fail("Kopf: === S<n>±<Tage> <HH:MM> <Minuten> | <Titel>")
            day = day_of(match[1], self.dates, block.source)
            local_start = datetime.combine(day, time(int(match[2]), int(match[3])))
            if block.get("Verlegt"):
                block.fail("„Verlegt“ gibt es nur für Termine einer Serie", "Verlegt")
            self._meeting(body, body_block, block, title, local_start, timedelta(minutes=int(match[4])), members)

    def _meeting(self, body, body_block, block, title, local_start, duration, members, series=None,
                 original_start=None):
        starts = to_utc(local_start)
        ends = starts + duration
        past = ends <= self.now
        meeting = Meeting(body=body, series=series, original_start=original_start, title=title, starts_at=starts,
                          ends_at=ends, uid=new_uid("meeting"), status=MeetingStatus.SCHEDULED.value,
                          place=(block.get("Ort") if block else None) or body_block.get("Ort", ""),
                          online_url=body_block.get("Online", ""))
        meeting.created_at = meeting.updated_at = min(body.created_at + timedelta(days=14),
                                                      starts - timedelta(days=21))
        if original_start is not None and original_start != starts:  # moved: a change of the date
            meeting.sequence = 1
            meeting.updated_at = original_start - timedelta(days=12)
        db.session.add(meeting)
        if block is None:
            return meeting
        if block.get("Abgesagt"):
            if past:
                block.fail("abgesagt werden können nur künftige Termine", "Abgesagt")
            meeting.status = MeetingStatus.CANCELLED.value
            meeting.cancel_reason = block.get("Abgesagt")[:300]
            meeting.sequence = 1
            meeting.updated_at = self.now - timedelta(days=self.rng.randint(2, 6))
        if not block.parts:
            return meeting
        published = past or block.get("Tagesordnung") == "veröffentlicht"
        if published:
            meeting.agenda_published_at = min(starts - timedelta(days=body.agenda_lead_days, hours=7),
                                              self.now - timedelta(hours=5))
        for position, part in enumerate(block.parts, start=1):
            self._item(meeting, part, position, past)
        if past:
            meeting.minutes_published_at = min(ends + timedelta(days=self.rng.randint(3, 8), hours=2),
                                               self.now - timedelta(hours=1))
            self._attendance(meeting, local_start.date(), members)
        return meeting

    def _item(self, meeting, part, position, past):
        if not past and any(part.get(key) for key in MINUTES_KEYS):
            part.fail("Protokoll (Diskussion, Beschluss, Aufgabe) nur bei vergangenen Sitzungen")
        item = AgendaItem(meeting=meeting, position=position, title=part.header[:200],
                          presenter=part.get("Vortrag", "")[:120], duration_minutes=int(part.get("Dauer", "15")),
                          description=part.get("Beschreibung", ""), discussion=part.get("Diskussion", ""),
                          decision=part.get("Beschluss", ""), status=AgendaStatus.ACCEPTED.value)
        item.created_at = item.updated_at = meeting.starts_at - timedelta(days=self.rng.randint(12, 20))
        if part.get("Vorgeschlagen von"):
            item.proposed_by = self.account(part.get("Vorgeschlagen von"), part, "Vorgeschlagen von")
        status = part.get("Status")
        if status == "vorgeschlagen":
            item.status = AgendaStatus.PROPOSED.value
            item.created_at = item.updated_at = self.now - timedelta(days=2, hours=3)
        elif status and status.startswith("nicht aufgenommen:"):
            item.status = AgendaStatus.REJECTED.value
            item.status_reason = status.partition(":")[2].strip()[:300]
        elif status:
            part.fail("Status: vorgeschlagen | nicht aufgenommen: <Grund>", "Status")
        for material in part.values("Unterlage"):
            material_title, url = split(material)
            if not url.startswith("https://"):
                part.fail("Unterlage: <Titel> | <https-URL>", "Unterlage")
            item.materials.append(AgendaMaterial(title=material_title, url=url, created_at=item.created_at))
        for title in split(part.get("Ideen", ""), ";") if part.get("Ideen") else []:
            if title not in self.idea_by_title:
                part.fail(f"keine Demo-Idee mit dem Titel „{title}“", "Ideen")
            idea = db.session.get(Idea, self.idea_by_title[title])
            if idea.created_at < meeting.starts_at:  # an idea posted after the meeting cannot be on its agenda
                item.ideas.append(idea)
        if part.get("Ideen aus"):
            found = self.ideas_by_event.get(part.get("Ideen aus"))
            if not found:
                part.fail(f"keine Demo-Ideen aus „{part.get('Ideen aus')}“", "Ideen aus")
            item.ideas.extend(db.session.get(Idea, idea_id) for idea_id in found)
        for topic in split(part.get("Maßnahmen", ""), ",") if part.get("Maßnahmen") else []:
            if topic not in self.measure_by_topic:
                part.fail(f"keine Demo-Maßnahme zum Thema „{topic}“", "Maßnahmen")
            item.measures.append(self.measure_by_topic[topic])
        db.session.add(item)
        for value in part.values("Aufgabe"):
            self._action(meeting, item, value, part)

    def _action(self, meeting, item, value, part):
        parts = split(value)
        if len(parts) != 4 or parts[3] not in ("offen", "erledigt") or not (parts[2] == "-" or parts[2].isdigit()):
            part.fail(f"Aufgabe: <Titel> | <Zuständig> | <Tage oder -> | offen|erledigt, nicht „{value}“", "Aufgabe")
        title, assignee, days, state = parts
        meeting_day = meeting.starts_at.astimezone(LOCAL).date()
        action = ActionItem(body_id=meeting.body.id, meeting=meeting, agenda_item=item, title=title[:300],
                            assignee=assignee[:120], status=ActionStatus.OPEN.value,
                            due_on=None if days == "-" else meeting_day + timedelta(days=int(days)))
        user = self.people.get(assignee)
        action.assignee_user_id = user.id if user else None
        action.created_at = action.updated_at = meeting.ends_at + timedelta(days=self.rng.randint(2, 5))
        if state == "erledigt":
            span = int(days) if days != "-" else 35
            done = meeting.ends_at + timedelta(days=self.rng.randint(max(span // 3, 2), max(span, 3)),
                                               hours=self.rng.randint(0, 8))
            action.status = ActionStatus.DONE.value
            action.done_at = action.updated_at = min(done, self.now - timedelta(hours=2))
        db.session.add(action)

    def _attendance(self, meeting, day, members):
        """Most members come, some are excused; a deputy comes when the member is not there."""
        db.session.flush()  # attendance refers to the meeting by id
        presenters = " ".join(item.presenter for item in meeting.items)
        active = [member for member in members if member.active_on(day)]
        missing = set()
        for member in active:
            if member.role == DEPUTY_ROLE:
                continue
            roll = self.rng.random()
            if member.name in presenters or roll < 0.85:
                status = AttendanceStatus.PRESENT
            elif roll < 0.97:
                status = AttendanceStatus.EXCUSED
            else:
                status = AttendanceStatus.ABSENT
            if status is not AttendanceStatus.PRESENT:
                missing.add(member.organisation)
            db.session.add(Attendance(meeting_id=meeting.id, member=member, status=status.value))
        for member in active:
            if member.role == DEPUTY_ROLE and member.organisation in missing:
                db.session.add(Attendance(meeting_id=meeting.id, member=member,
                                          status=AttendanceStatus.PRESENT.value))


@demo_step(65)
def load_demo_bodies():
    with db.session.no_autoflush:  # rows are complete before they are written; flushes are explicit
        loader = _Loader(utcnow())
        loader.load_bodies()
        loader.load_series_meetings("arbeitskreis", "arbeitskreis.txt")
        loader.load_single_meetings("lenkungskreis", "lenkungskreis.txt")
    db.session.flush()
