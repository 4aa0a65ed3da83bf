"""Demo content for measures: the climate action plan of the demo city, about 40 sheets
written for the demo, each linked to the demo ideas of its topics.

The sheets live in demo_measures/*.txt (format in demo_measures/FORMAT.md). Every sheet
is written through `services.save_sheet`, so the demo passes the same validation as the
form and the import. Ideas are linked directly (no notifications: a demo must not fill
the outbox), the way the ideas demo writes its statuses.
"""
import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import select, update

from ..auth.models import User
from ..demo import DEMO_LOGINS, demo_step
from ..extensions import db
from ..ideas.demo import demo_topics, labelled_demo_ideas
from ..ideas.models import TEXT_MAX, Idea, Status, StatusChange
from ..models import utcnow
from . import savings
from .models import REASON_MAX, IdeaMeasure
from .services import Indicator, Milestone, SheetErrors, save_sheet
from .sheet import parse_date, parse_number

DEMO_DIR = Path(__file__).parent / "demo_measures"
SEED = 2035

# German key of the files -> sheet field (keys mapped to None are handled by the loader).
KEYS = {
    "Titel": "title",
    "Typ": "measure_type",
    "Priorität": "priority",
    "Ziel": "goal",
    "Ausgangslage": "starting_situation",
    "Beschreibung": "description",
    "Zielgruppe": "target_group",
    "Federführung": "lead_unit",
    "Partner": "partners",
    "Beginn": "start_year",
    "Ende": "end_year",
    "Laufzeit": "duration",
    "Hochlauf": "ramp_up_years",
    "Einmalige Kosten": "cost_one_off_eur",
    "Laufende Kosten": "cost_per_year_eur",
    "Personal": "staff_fte",
    "Finanzierung": "funding",
    "Grundlage": "savings_note",
    "Zusatznutzen": "co_benefits",
    "Wertschöpfung": "regional_value_added",
    "Hemmnisse": "obstacles",
    "Status": "status",
    "Fortschritt": "progress",
    "Beschlossen": "adopted_on",
    "Nummer": "number",
    "Einsparung": None,
    "Energie": None,
    "Meilenstein": None,
    "Indikator": None,
    "Begründung": None,
}
REPEATABLE = {"Meilenstein", "Indikator"}
REQUIRED = ("Titel", "Typ", "Priorität", "Beschreibung", "Status", "Begründung")
DURATIONS = {"kurzfristig": "short", "mittelfristig": "medium", "langfristig": "long"}
# Ideas with these answers stay out of the plan.
NOT_LINKED = {Status.NOT_FEASIBLE.value, Status.OUT_OF_SCOPE.value, Status.MERGED.value}
WAITING = {Status.SUBMITTED.value, Status.IN_REVIEW.value}
LEFT_FOR_TRIAGE = 0.25  # share of the newest unanswered ideas of a topic that stay unlinked

_KEY_LINE = re.compile(r"^([A-Za-zÄÖÜäöüß][A-Za-zÄÖÜäöüß ]*?):(?:\s(.*)|)$")
_VALUE_WITH_YEAR = re.compile(r"^(?P<word>Basis|Ziel)\s+(?P<value>[^()]+?)\s*(?:\((?P<year>\d{4})\))?$")
_YEAR_VALUE = re.compile(r"^(\d{4})\s*=\s*(.+)$")


@dataclass
class _Entry:
    key: str
    line: int
    text: str
    in_list: bool = False
    pending_break: bool = False


@dataclass
class DemoMeasure:
    """One parsed sheet: raw values for save_sheet plus the parts and the link reason."""
    topics: list
    source: str  # "<file>:<line>" of the ### line
    raw: dict = field(default_factory=dict)  # sheet field -> raw string
    milestones: list = field(default_factory=list)  # [Milestone]
    indicators: list = field(default_factory=list)  # [Indicator]
    energy: list = None  # [(carrier, Decimal)] with the carrier method
    reason: str = ""

    @property
    def title(self):
        return self.raw.get("title", "")


def _fail(source_name, line, message):
    raise ValueError(f"{source_name}:{line}: {message}")


def _continue(entry, raw_line):
    """Add a continuation line (it starts with two spaces) to an entry's text."""
    content = raw_line[2:]
    stripped = content.strip()
    if stripped.startswith("- "):
        separator = "\n\n" if entry.pending_break else "\n"
        entry.text = (entry.text + separator + stripped) if entry.text else stripped
        entry.in_list = True
    elif entry.pending_break:
        entry.text = (entry.text + "\n\n" + stripped) if entry.text else stripped
        entry.in_list = False
    elif entry.in_list and content.startswith("  "):  # wrapped text of a list item
        entry.text += " " + stripped
    elif entry.in_list:
        entry.text += "\n" + stripped
        entry.in_list = False
    else:
        entry.text = (entry.text + " " + stripped) if entry.text else stripped
    entry.pending_break = False


def _entries(text, source_name):
    """[(topics, line, [_Entry])] per measure; only the layout is checked here."""
    measures, current, last = [], None, None
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.rstrip()
        if line.startswith("###"):
            codes = [code.strip() for code in line[3:].split(",")]
            if not all(codes):
                _fail(source_name, number, "„###“ braucht mindestens einen Themen-Code, durch Kommas getrennt")
            current, last = (codes, number, []), None
            measures.append(current)
            continue
        if not line.strip():
            if last is not None:  # a paragraph break if a continuation line follows
                last.pending_break = True
            continue
        if line.startswith("#"):
            continue
        if raw_line.startswith("  "):
            if last is None:
                _fail(source_name, number, "eingerückte Zeile ohne Schlüssel davor")
            _continue(last, raw_line)
            continue
        if current is None:
            _fail(source_name, number, "Text vor der ersten Maßnahme („### <Thema>“)")
        match = _KEY_LINE.match(line)
        if not match or match[1] not in KEYS:
            _fail(source_name, number, f"„Schlüssel: Wert“ erwartet, nicht „{line[:60]}“")
        key = match[1]
        if key not in REPEATABLE and any(entry.key == key for entry in current[2]):
            _fail(source_name, number, f"„{key}“ steht doppelt in dieser Maßnahme")
        last = _Entry(key=key, line=number, text=(match[2] or "").strip())
        current[2].append(last)
    return measures


def parse(text, source_name="demo", topics=None):
    """Parse one demo file into DemoMeasures; ValueError "<file>:<line>: ..." on any format error."""
    topics = demo_topics() if topics is None else topics
    measures = []
    for codes, start, entries in _entries(text, source_name):
        unknown = [code for code in codes if code not in topics]
        if unknown:
            _fail(source_name, start, f"unbekannte Themen: {', '.join(unknown)}")
        measure = DemoMeasure(topics=codes, source=f"{source_name}:{start}")
        measure.raw["sector"] = topics[codes[0]][1]
        present = {entry.key for entry in entries}
        missing = [key for key in REQUIRED if key not in present]
        if missing:
            _fail(source_name, start, f"es fehlt: {', '.join(missing)}")
        if {"Einsparung", "Energie"} <= present:
            _fail(source_name, start, "entweder „Einsparung“ oder „Energie“, nicht beides")
        for entry in entries:
            _read_entry(measure, entry, source_name)
        if measure.raw.get("end_year"):
            measure.raw.pop("duration", None)
        measures.append(measure)
    return measures


def _read_entry(measure, entry, source_name):
    key, value = entry.key, entry.text.strip()
    if not value:
        _fail(source_name, entry.line, f"„{key}“ ist leer")
    if KEYS[key] is not None:
        if key == "Laufzeit":
            if value.split()[0].casefold() not in DURATIONS:
                _fail(source_name, entry.line, f"Laufzeit „{value}“: kurzfristig, mittelfristig oder langfristig")
            value = DURATIONS[value.split()[0].casefold()]
        measure.raw[KEYS[key]] = value
    elif key == "Begründung":
        if len(value) > REASON_MAX:
            _fail(source_name, entry.line, f"die Begründung ist länger als {REASON_MAX} Zeichen")
        measure.reason = value
    elif key == "Einsparung":
        parts = [part.strip() for part in value.split(";")]
        if len(parts) != 2 or any(parse_number(part) is None for part in parts):
            _fail(source_name, entry.line, f"„Einsparung: <MWh/a>; <t CO2e/a>“ erwartet, nicht „{value[:60]}“")
        measure.raw.update(savings_method="direct", savings_mwh_per_year=parts[0], savings_t_co2e_per_year=parts[1])
    elif key == "Energie":
        measure.raw["savings_method"] = "carriers"
        measure.energy = [_carrier(part, source_name, entry.line) for part in value.split(";")]
    elif key == "Meilenstein":
        measure.milestones.append(_milestone(value, source_name, entry.line))
    elif key == "Indikator":
        measure.indicators.append(_indicator(value, source_name, entry.line))


def _carrier(part, source_name, line):
    words = part.split()
    amount = parse_number(words[-1]) if len(words) == 2 else None
    if amount is None:
        _fail(source_name, line, f"„<Energieträger> <MWh/a>“ erwartet, nicht „{part.strip()[:60]}“")
    if words[0] not in savings.carriers():
        _fail(source_name, line, f"unbekannter Energieträger „{words[0]}“")
    return words[0], amount


def _date(text, source_name, line):
    value = parse_date(text.strip())
    if value is None:
        _fail(source_name, line, f"Datum TT.MM.JJJJ erwartet, nicht „{text.strip()[:40]}“")
    return value


def _milestone(value, source_name, line):
    parts = [part.strip() for part in value.split("|")]
    if len(parts) not in (2, 3) or not parts[1]:
        _fail(source_name, line, "„Meilenstein: <TT.MM.JJJJ> | <Titel> [| erledigt <TT.MM.JJJJ>]“ erwartet")
    done = None
    if len(parts) == 3:
        if not parts[2].startswith("erledigt "):
            _fail(source_name, line, f"„erledigt <TT.MM.JJJJ>“ erwartet, nicht „{parts[2][:40]}“")
        done = _date(parts[2].removeprefix("erledigt "), source_name, line)
    return Milestone(title=parts[1], due_on=_date(parts[0], source_name, line), done_on=done)


def _number(text, source_name, line):
    number = parse_number(text.strip())
    if number is None:
        _fail(source_name, line, f"Zahl erwartet, nicht „{text.strip()[:40]}“")
    return number


def _indicator(value, source_name, line):
    parts = [part.strip() for part in value.split("|")]
    if len(parts) < 2 or not parts[0]:
        _fail(source_name, line, "„Indikator: <Name> | <Einheit> | Basis … | Ziel … [| Ist …]“ erwartet")
    indicator = Indicator(name=parts[0], unit=parts[1])
    for part in parts[2:]:
        if part.startswith("Ist "):
            for item in part[4:].split(";"):
                match = _YEAR_VALUE.match(item.strip())
                if not match:
                    _fail(source_name, line, f"„Ist <Jahr>=<Wert>; …“ erwartet, nicht „{item.strip()[:40]}“")
                indicator.values.append((int(match[1]), _number(match[2], source_name, line), ""))
            continue
        match = _VALUE_WITH_YEAR.match(part)
        if not match:
            _fail(source_name, line, f"„Basis <Wert> (<Jahr>)“, „Ziel …“ oder „Ist …“ erwartet, nicht „{part[:40]}“")
        number = _number(match["value"], source_name, line)
        year = int(match["year"]) if match["year"] else None
        if match["word"] == "Basis":
            indicator.baseline_value, indicator.baseline_year = number, year
        else:
            indicator.target_value, indicator.target_year = number, year
    return indicator


def read_demo_measures():
    """All demo sheets, files sorted by name, in the order they are written."""
    topics = demo_topics()
    measures = []
    for path in sorted(DEMO_DIR.glob("*.txt")):
        measures.extend(parse(path.read_text(encoding="utf-8"), path.name, topics))
    return measures


# --- loading -------------------------------------------------------------------------------------

def _ideas_by_topic():
    """Visible demo ideas per topic, matched on (title, text) with the labelled demo rows."""
    topic_of = {}
    for row in labelled_demo_ideas():
        topic_of[(row["title"][:120], row["text"][:5000] or row["title"])] = row["topic"]
    found = defaultdict(list)
    ideas = db.session.scalars(select(Idea).where(Idea.hidden_at.is_(None)).order_by(Idea.created_at, Idea.id))
    for idea in ideas:
        topic = topic_of.get((idea.title, idea.text))
        if topic is not None:
            found[topic].append(idea)
    return found


def _linkable(ideas):
    """The ideas of one topic that go into its measures (oldest first)."""
    waiting = [idea for idea in ideas if idea.status == Status.SUBMITTED.value]
    keep = len(waiting) - round(len(waiting) * LEFT_FOR_TRIAGE)
    left = {idea.id for idea in waiting[keep:]}
    return [idea for idea in ideas if idea.status not in NOT_LINKED and idea.id not in left]


def _link(rng, measure, ideas, staff, reason, now, answered):
    """IdeaMeasure rows and, for ideas still waiting, the answer; `answered` collects idea id -> new values."""
    for idea in ideas:
        before = answered.get(idea.id)
        status = before["status"] if before else idea.status
        earliest = max(idea.created_at, before["answered_at"] if before else idea.answered_at or idea.created_at)
        moment = min(earliest + timedelta(hours=rng.randint(20, 24 * 9)), now - timedelta(minutes=rng.randint(5, 600)))
        moment = max(moment, earliest)
        db.session.add(IdeaMeasure(idea_id=idea.id, measure_id=measure.id, reason=reason, decision_id=None,
                                   linked_by_id=staff.id, created_at=moment))
        if status in WAITING:
            answer = _("Ihre Idee fließt in die Maßnahme %(number)s „%(title)s“ des Klimaschutzplans ein. "
                       "%(reason)s", number=measure.number, title=measure.title, reason=reason)[:TEXT_MAX]
            db.session.add(StatusChange(idea_id=idea.id, old_status=status, new_status=Status.IN_MEASURE.value,
                                        answer=answer, actor_id=staff.id, created_at=moment))
            answered[idea.id] = {"id": idea.id, "status": Status.IN_MEASURE.value, "answer": answer,
                                 "answered_at": moment, "sector_confirmed": idea.sector_id is not None}
    return len(ideas)


def save_demo_measure(item, author):
    """One sheet through save_sheet; a ValueError naming file, line and field when a value is refused."""
    try:
        return save_sheet(None, author, dict(item.raw), milestones=item.milestones, energy=item.energy,
                          indicators=item.indicators)
    except SheetErrors as errors:
        raise ValueError(f"{item.source}: {item.title!r}: " + "; ".join(
            f"{error.field}: {error.message}" for error in errors.errors)) from None


@demo_step(60)
def load_demo_measures():
    """The plan's sheets through save_sheet, then the links to the demo ideas of their topics."""
    rng = random.Random(SEED)
    now = utcnow()
    author = db.session.scalar(select(User).where(User.email == DEMO_LOGINS[0][0]))
    staff = db.session.scalar(select(User).where(User.email == DEMO_LOGINS[1][0]))
    by_topic = _ideas_by_topic()
    linkable = {topic: _linkable(ideas) for topic, ideas in by_topic.items()}
    answered = {}
    for item in read_demo_measures():
        measure = save_demo_measure(item, author)
        ideas, seen = [], set()
        for topic in item.topics:
            for idea in linkable.get(topic, []):
                if idea.id not in seen:
                    seen.add(idea.id)
                    ideas.append(idea)
        measure.idea_count = _link(rng, measure, ideas, staff, item.reason, now, answered)
    db.session.flush()
    if answered:
        # One bulk update: no per-object events, so SQLite does not re-index the unchanged idea texts.
        db.session.execute(update(Idea), list(answered.values()))
        for ideas in by_topic.values():
            for idea in ideas:
                if idea.id in answered:
                    db.session.expire(idea)

