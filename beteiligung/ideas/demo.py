"""Demo content for ideas: about 800 ideas written for the demo city, with supports,
comments, answers, hidden ones, and cards from two citizen events and workshops.

The texts live in demo_ideas/*.txt (format in demo_ideas/FORMAT.md); this module
parses them and spreads dates, authors and supports with a fixed seed, so every
demo installation looks the same.
"""
import random
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, select

from ..auth.models import User
from ..demo import DEMO_LOGINS, demo_step
from ..extensions import db
from ..models import utcnow
from ..roles import Role
from . import search
from .models import (AnswerTemplate, Comment, District, Idea, Phase, Report, Sector, Source, Status,
                     StatusChange, Support)
from .services import ensure_default_sectors

DEMO_DIR = Path(__file__).parent / "demo_ideas"
SEED = 2035

DISTRICTS = [
    "Gesamtes Stadtgebiet", "Jena-Zentrum", "Jena-Nord", "Jena-Ost", "Jena-Süd", "Jena-West", "Wenigenjena",
    "Lobeda-Ost", "Lobeda-West", "Alt-Lobeda", "Winzerla", "Zwätzen", "Löbstedt", "Kernberge", "Burgau",
    "Göschwitz", "Ammerbach", "Isserstedt", "Drackendorf", "Ziegenhain", "Wöllnitz", "Kunitz", "Lichtenhain",
    "Beutenberg",
]

# Voices for the demo: citizens who write, comment and support (they have no login).
FIRST_NAMES = [
    "Anja", "Bernd", "Christiane", "Dennis", "Elke", "Frank", "Gabi", "Heiko", "Ines", "Jens", "Katrin", "Lars",
    "Monika", "Nico", "Olga", "Paul", "Renate", "Sven", "Tanja", "Ulf", "Vanessa", "Wolfgang", "Yvonne", "Zeynep",
    "Marlene", "Jakob", "Leonie", "Emil", "Hannah", "Felix", "Greta", "Till", "Ronja", "Matthias", "Sabine",
    "Steffen", "Doreen", "Maik", "Ramona", "Thomas",
]
NAME_STYLES = ["{first} {initial}.", "{first} aus {district}", "{first}{year}", "{first} {initial}.", "{first}"]
DEMO_PASSWORDLESS_VOICES = 160

ANSWER_TEMPLATES = [
    ("Aufgenommen in eine Maßnahme", Status.IN_MEASURE.value,
     "Vielen Dank für Ihre Idee. Wir haben sie in die Maßnahme **[Nummer und Titel]** des Klima-Aktionsplans "
     "aufgenommen. Den Stand der Umsetzung können Sie auf der Seite der Maßnahme verfolgen."),
    ("Nicht in kommunaler Zuständigkeit", Status.OUT_OF_SCOPE.value,
     "Vielen Dank für Ihren Vorschlag. Darüber entscheidet nicht die Stadt, sondern [zuständige Stelle]. "
     "Wir haben Ihre Idee dorthin weitergegeben."),
    ("Bereits geplant", Status.ALREADY_DONE.value,
     "Danke für den Hinweis. Genau das ist bereits beschlossen und wird [Zeitraum] umgesetzt."),
    ("Prüfung begonnen", Status.IN_REVIEW.value,
     "Wir prüfen Ihre Idee gerade gemeinsam mit dem zuständigen Fachbereich und melden uns mit dem Ergebnis."),
]


@dataclass
class DemoIdea:
    title: str
    sector: str | None
    district: str | None = None
    dot_votes: int = 0
    status: str | None = None
    answer: str | None = None
    hidden_reason: str | None = None
    event: tuple | None = None  # (name, facilitator, source)
    topic: str | None = None  # human topic label (FORMAT.md), for evaluation only, not stored
    lines: list = field(default_factory=list)
    comments: list = field(default_factory=list)  # [text, [replies]]

    @property
    def text(self):
        return "\n".join(self.lines).strip()


def slugify(name):
    value = name.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", value).strip("-")


def parse(text, source_name="demo"):
    """Parse one demo file into DemoIdeas (see FORMAT.md)."""
    ideas, sector, event, current = [], None, None, None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if line.startswith("# ") or line == "#":
            continue
        if line.startswith("%%%"):
            parts = [part.strip() for part in line[3:].split("|")]
            if parts[0] == "event":
                event = (parts[1], parts[2] if len(parts) > 2 else None, parts[3] if len(parts) > 3 else "event")
                sector = None
            else:
                sector, event = parts[0], None
            current = None
            continue
        if line.startswith("=== "):
            current = DemoIdea(title=line[4:].strip(), sector=sector, event=event)
            ideas.append(current)
            continue
        if current is None:
            if line.strip():
                raise ValueError(f"{source_name}:{number}: text outside an idea")
            continue
        if not current.lines and not current.comments:
            if line.startswith("~ "):
                current.topic = line[2:].strip()
                continue
            if line.startswith("@ "):
                current.district = line[2:].strip()
                continue
            if line.startswith("+ "):
                current.dot_votes = int(line[2:].strip())
                continue
            if line.strip() == "?":
                current.sector = None
                continue
            if line.startswith("? "):
                current.sector = line[2:].strip()
                continue
            if line.startswith("! "):
                key, _sep, value = line[2:].partition(":")
                if key.strip() == "hidden":
                    current.hidden_reason = value.strip()
                else:
                    current.status, current.answer = key.strip(), value.strip()
                continue
        if line.startswith(">> "):
            if current.comments:
                current.comments[-1][1].append(line[3:].strip())
            continue
        if line.startswith("> "):
            current.comments.append([line[2:].strip(), []])
            continue
        if current.comments:  # continuation of a comment
            if line.strip():
                current.comments[-1][0] += " " + line.strip()
            continue
        current.lines.append(line)
    return ideas


def read_demo_ideas():
    ideas = []
    for path in sorted(DEMO_DIR.glob("*.txt")):
        ideas.extend(parse(path.read_text(encoding="utf-8"), path.name))
    return ideas


TOPIC_ROW = re.compile(r"^\| `([a-z0-9-]+)` \| (.+?) \| `([a-z]+)` \|$")


def demo_topics():
    """The human topics of the demo ideas: code -> (name, sector code).

    Read from the table in FORMAT.md, the only copy, so the documentation and the labels
    checked against it cannot drift apart.
    """
    lines = (DEMO_DIR / "FORMAT.md").read_text(encoding="utf-8").splitlines()
    return {match[1]: (match[2], match[3]) for match in map(TOPIC_ROW.match, lines) if match}


def labelled_demo_ideas():
    """Every demo idea with its human topic, as plain data to evaluate the clustering against.

    Ids are "<file stem>-<number in file>". The sector is the one the idea is loaded with;
    where the citizen chose "weiß ich nicht" it is the topic's sector, so every row has one.
    """
    topics = demo_topics()
    rows = []
    for path in sorted(DEMO_DIR.glob("*.txt")):
        for number, idea in enumerate(parse(path.read_text(encoding="utf-8"), path.name), start=1):
            if idea.topic not in topics:
                raise ValueError(f"{path.name}: unknown topic {idea.topic!r} for demo idea {idea.title!r}")
            rows.append({"id": f"{path.stem}-{number}", "title": idea.title, "text": idea.text,
                         "sector": idea.sector or topics[idea.topic][1], "topic": idea.topic})
    return rows


def _voices(rng, districts):
    existing = db.session.scalars(select(User).where(User.role == Role.CITIZEN.value)).all()
    names = set(user.display_name for user in existing)
    voices = list(existing)
    while len(voices) < len(existing) + DEMO_PASSWORDLESS_VOICES:
        first = rng.choice(FIRST_NAMES)
        name = rng.choice(NAME_STYLES).format(first=first, initial=rng.choice("ABDEFGHKLMNPRSTWZ"),
                                              district=rng.choice(districts).name, year=rng.randint(55, 99))
        if name in names or len(name) > 80:
            continue
        names.add(name)
        user = User(email=f"stimme{len(voices):03d}@beteiligung.example.org", display_name=name,
                    password_hash=None, role=Role.CITIZEN.value, privacy_accepted_at=utcnow())
        db.session.add(user)
        voices.append(user)
    db.session.flush()
    return voices


@demo_step(30)
def load_demo_ideas():
    rng = random.Random(SEED)
    now = utcnow()
    ensure_default_sectors()
    districts = {}
    for position, name in enumerate(DISTRICTS, start=1):
        district = District(code=slugify(name), name=name, position=position)
        db.session.add(district)
        districts[name] = district
    db.session.add(Phase(kind=Phase.COLLECTION, starts_at=now - timedelta(days=42), ends_at=now + timedelta(days=28)))
    db.session.add(Phase(kind=Phase.SUPPORT, starts_at=now - timedelta(days=35), ends_at=now + timedelta(days=49)))
    for title, status, text in ANSWER_TEMPLATES:
        db.session.add(AnswerTemplate(title=title, status=status, text=text))
    db.session.flush()

    sectors = {sector.code: sector for sector in db.session.scalars(select(Sector))}
    staff = db.session.scalar(select(User).where(User.email == DEMO_LOGINS[1][0]))
    voices = _voices(rng, list(districts.values()))
    whole_city = districts["Gesamtes Stadtgebiet"]
    local = [district for name, district in districts.items() if name != "Gesamtes Stadtgebiet"]

    support_rows = []
    for item in read_demo_ideas():
        created = now - timedelta(days=41) + timedelta(minutes=rng.randint(0, 40 * 24 * 60))
        district = districts.get(item.district) if item.district else (
            whole_city if rng.random() < 0.6 else rng.choice(local))
        if district is None:
            raise ValueError(f"unknown district {item.district!r} in demo idea {item.title!r}")
        analog = item.event is not None
        author = None if analog else rng.choice(voices)
        idea = Idea(
            title=item.title[:120], text=item.text[:5000] or item.title, sector=sectors.get(item.sector),
            district=district, author=author, source=Source(item.event[2]).value if analog else Source.ONLINE.value,
            event_name=item.event[0] if analog else None,
            facilitator=(item.event[1] or "").removeprefix("Moderation:").strip() or None if analog else None,
            entered_by=staff if analog else None, dot_votes=item.dot_votes, status=Status.SUBMITTED.value,
        )
        idea.created_at = idea.updated_at = created
        db.session.add(idea)
        db.session.flush()

        comment_count = 0
        for position, (text, replies) in enumerate(item.comments):
            moment = created + timedelta(hours=rng.randint(2, 24 * 6) * (position + 1))
            parent = Comment(idea=idea, author=rng.choice(voices), text=text[:2000], created_at=moment,
                             updated_at=moment)
            db.session.add(parent)
            comment_count += 1
            for reply in replies:
                moment += timedelta(hours=rng.randint(1, 48))
                replier = author if author is not None and rng.random() < 0.4 else rng.choice(voices)
                db.session.add(Comment(idea=idea, author=replier, text=reply[:2000], parent=parent,
                                       created_at=moment, updated_at=moment))
                comment_count += 1
        idea.comment_count = comment_count

        supporters = _support_count(rng, item, analog)
        for voice in rng.sample(voices, min(supporters, len(voices))):
            support_rows.append({"idea_id": idea.id, "user_id": voice.id,
                                 "created_at": created + timedelta(hours=rng.randint(1, 24 * 20))})
        idea.support_count = min(supporters, len(voices))

        if item.status:
            answered = created + timedelta(days=rng.randint(3, 20))
            status = Status(item.status)
            if status is not Status.IN_REVIEW and rng.random() < 0.5:
                db.session.add(StatusChange(idea_id=idea.id, old_status="submitted", new_status="in_review",
                                            actor_id=staff.id, created_at=answered - timedelta(days=2)))
            db.session.add(StatusChange(idea_id=idea.id, old_status="submitted", new_status=status.value,
                                        answer=item.answer, actor_id=staff.id, created_at=answered))
            idea.status, idea.answer, idea.answered_at = status.value, item.answer, answered
            idea.sector_confirmed = idea.sector is not None  # staff looked at it when answering
        if item.hidden_reason:
            idea.hidden_at = created + timedelta(hours=rng.randint(2, 30))
            idea.hidden_reason = item.hidden_reason
            for reporter in rng.sample(voices, 3):
                db.session.add(Report(idea_id=idea.id, reporter_id=reporter.id, reason="other",
                                      created_at=idea.hidden_at, resolved_at=idea.hidden_at,
                                      resolved_by_id=staff.id, resolution="hidden"))
    if support_rows:
        db.session.execute(insert(Support), support_rows)
    db.session.flush()
    _open_reports(rng, voices)
    search.rebuild(db.session)


def _open_reports(rng, voices):
    """A few open reports below the hiding threshold, so the moderation queue has work."""
    comments = db.session.scalars(select(Comment).where(Comment.hidden_at.is_(None)).order_by(Comment.id)).all()
    ideas = db.session.scalars(select(Idea).where(Idea.hidden_at.is_(None), Idea.source == Source.ONLINE.value)
                               .order_by(Idea.id)).all()
    notes = ["Ist das nicht persönlich gegen die Nachbarn gerichtet?", None, "Klingt nach Werbung.",
             "Der Ton geht gar nicht.", None]
    for target, reason in [(rng.choice(comments), "insult"), (rng.choice(comments), "off_topic"),
                           (rng.choice(comments), "insult"), (rng.choice(ideas), "spam"),
                           (rng.choice(ideas), "off_topic")]:
        for reporter in rng.sample(voices, rng.choice([1, 2])):
            key = {"idea_id": target.id} if isinstance(target, Idea) else {"comment_id": target.id}
            db.session.add(Report(reporter_id=reporter.id, reason=reason, note=rng.choice(notes), **key))
            target.report_count += 1
    db.session.flush()


def _support_count(rng, item, analog):
    """Skewed like a real process: most ideas get a handful, a few draw many."""
    if analog:
        return rng.choice([0, 0, 0, 1, 2])
    roll = rng.random()
    if roll < 0.35:
        return rng.randint(0, 3)
    if roll < 0.8:
        return rng.randint(4, 15)
    if roll < 0.95:
        return rng.randint(16, 45)
    return rng.randint(46, 120)
