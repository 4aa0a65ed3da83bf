"""Reading the measure plan: filters of the catalogue and the API, and the aggregates of
the overview per field of action and of the report "Was wurde aus den Ideen?".

Every function here runs a fixed number of statements whatever the number of
measures or ideas: the sums are GROUP BY queries in the database, and the ideas
behind a page of measures come in one query for the whole page.

The meetings module contributes the sessions and decisions a measure came from
through `origin_provider`:

    @queries.origin_provider
    def _meetings(measure):
        return [Origin(kind="Arbeitskreis", title="3. Sitzung, TOP 4", date=date(2025, 3, 12),
                       url="/termine/12#top-4", text="Beschluss: ...")]

Plain tuples (kind, title, date, url, text) are accepted as well.
"""
from dataclasses import dataclass, field
import datetime
from decimal import Decimal
from typing import NamedTuple

from flask_babel import gettext as _
from sqlalchemy import case, exists, func, or_, select
from sqlalchemy.orm import contains_eager

from ..extensions import db
from ..ideas.models import Idea, Sector, Source, Status
from ..ideas.services import find_sector
from .models import IdeaMeasure, Measure, MeasureStatus, MeasureType, Priority

ZERO = Decimal(0)


# --- filters of the catalogue and the API ---------------------------------------------------------

@dataclass
class MeasureFilters:
    sector: Sector | None = None
    status: str | None = None
    priority: str | None = None
    measure_type: str | None = None  # URL parameter "type"
    errors: dict = field(default_factory=dict)  # URL parameter -> German message

    def as_args(self):
        """The filters as URL parameters (for pagination links)."""
        args = {}
        if self.sector is not None:
            args["sector"] = self.sector.code
        for name, value in (("status", self.status), ("priority", self.priority), ("type", self.measure_type)):
            if value:
                args[name] = value
        return args


FILTER_ORDER = ("sector", "status", "priority", "type")
_CHOICES = {
    "status": (MeasureStatus, "status", lambda value: _("Unbekannter Status im Feld „status“: %(value)s",
                                                        value=value)),
    "priority": (Priority, "priority", lambda value: _("Unbekannte Priorität im Feld „priority“: %(value)s",
                                                        value=value)),
    "type": (MeasureType, "measure_type", lambda value: _("Unbekannter Maßnahmentyp im Feld „type“: %(value)s",
                                                           value=value)),
}


def parse_filters(args):
    """Filters from request args; unknown values land in `errors` (German) and are ignored."""
    filters = MeasureFilters()
    sector = (args.get("sector") or "").strip()
    if sector:
        filters.sector = find_sector(sector)
        if filters.sector is None:
            filters.errors["sector"] = _("Unbekanntes Handlungsfeld im Feld „sector“: %(value)s", value=sector[:80])
    for name, (enum, attribute, message) in _CHOICES.items():
        value = (args.get(name) or "").strip()
        if not value:
            continue
        if value in {member.value for member in enum}:
            setattr(filters, attribute, value)
        else:
            filters.errors[name] = message(value[:80])
    return filters


def catalogue_query(filters):
    """The measures matching the filters, in plan order (field of action, then M-x.1, M-x.2, ..., M-x.10)."""
    query = (select(Measure).join(Sector, Sector.id == Measure.sector_id).options(contains_eager(Measure.sector))
             .order_by(Sector.position, Sector.name, func.length(Measure.number), Measure.number))
    if filters.sector is not None:
        query = query.where(Measure.sector_id == filters.sector.id)
    if filters.status:
        query = query.where(Measure.status == filters.status)
    if filters.priority:
        query = query.where(Measure.priority == filters.priority)
    if filters.measure_type:
        query = query.where(Measure.measure_type == filters.measure_type)
    return query


def _hidden_idea():
    """The linked idea is hidden. Written as NOT EXISTS so that the query starts from the links of
    the measures asked for; a join lets SQLite (without statistics) scan all visible ideas first."""
    return select(Idea.id).where(Idea.id == IdeaMeasure.idea_id, Idea.hidden_at.is_not(None)).exists()


def visible_idea_ids(measure_ids):
    """{measure_id: [idea ids]} of the visible ideas linked to the measures, in one query."""
    links = {measure_id: [] for measure_id in measure_ids}
    if not measure_ids:
        return links
    rows = db.session.execute(
        select(IdeaMeasure.measure_id, IdeaMeasure.idea_id)
        .where(IdeaMeasure.measure_id.in_(list(measure_ids)), ~_hidden_idea())
        .order_by(IdeaMeasure.measure_id, IdeaMeasure.idea_id))
    for measure_id, idea_id in rows:
        links[measure_id].append(idea_id)
    return links


def visible_idea_counts(measure_ids):
    """{measure_id: number of visible linked ideas}, in one query (the stored idea_count also counts hidden ones)."""
    counts = dict.fromkeys(measure_ids, 0)
    if not measure_ids:
        return counts
    counts.update(db.session.execute(
        select(IdeaMeasure.measure_id, func.count(IdeaMeasure.id))
        .where(IdeaMeasure.measure_id.in_(list(measure_ids)), ~_hidden_idea())
        .group_by(IdeaMeasure.measure_id)).all())
    return counts


# --- overview per field of action ---------------------------------------------------------------

@dataclass
class SectorFigures:
    """The sums of the measures of one field of action (or of all of them)."""
    code: str | None
    name: str
    measures: int = 0
    quantified: int = 0  # measures with an estimated emission saving
    savings_t_co2e_per_year: Decimal = ZERO
    savings_mwh_per_year: Decimal = ZERO
    cost_one_off_eur: Decimal = ZERO
    cost_per_year_eur: Decimal = ZERO
    staff_fte: Decimal = ZERO
    by_status: dict = field(default_factory=dict)  # status code -> number of measures

    def add(self, other):
        self.measures += other.measures
        self.quantified += other.quantified
        for name in ("savings_t_co2e_per_year", "savings_mwh_per_year", "cost_one_off_eur", "cost_per_year_eur",
                     "staff_fte"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for status, count in other.by_status.items():
            self.by_status[status] = self.by_status.get(status, 0) + count


def _dec(value):
    return ZERO if value is None else Decimal(value)


def sector_overview():
    """([SectorFigures] per field of action, SectorFigures of the whole plan), from one GROUP BY query.

    Active fields of action without measures are listed with zeros; inactive ones only
    when they still hold measures.
    """
    statuses = list(MeasureStatus)
    rows = db.session.execute(
        select(Sector.code, Sector.name, func.count(Measure.id), func.count(Measure.savings_t_co2e_per_year),
               func.sum(Measure.savings_t_co2e_per_year), func.sum(Measure.savings_mwh_per_year),
               func.sum(Measure.cost_one_off_eur), func.sum(Measure.cost_per_year_eur), func.sum(Measure.staff_fte),
               *[func.sum(case((Measure.status == status.value, 1), else_=0)) for status in statuses])
        .outerjoin(Measure, Measure.sector_id == Sector.id)
        .where(or_(Sector.active, Measure.id.is_not(None)))
        .group_by(Sector.id, Sector.code, Sector.name, Sector.position)
        .order_by(Sector.position, Sector.name)
    ).all()
    sectors = []
    total = SectorFigures(code=None, name=_("Alle Handlungsfelder"),
                          by_status={status.value: 0 for status in statuses})
    for row in rows:
        figures = SectorFigures(
            code=row[0], name=row[1], measures=row[2], quantified=row[3], savings_t_co2e_per_year=_dec(row[4]),
            savings_mwh_per_year=_dec(row[5]), cost_one_off_eur=_dec(row[6]), cost_per_year_eur=_dec(row[7]),
            staff_fte=_dec(row[8]),
            by_status={status.value: int(row[9 + i] or 0) for i, status in enumerate(statuses)})
        sectors.append(figures)
        total.add(figures)
    return sectors, total


# --- "Was wurde aus den Ideen?" -------------------------------------------------------------------

@dataclass
class IdeaRow:
    """The visible ideas of one field of action (code None: not yet assigned) by status."""
    code: str | None
    name: str
    by_status: dict = field(default_factory=dict)  # status code -> ideas
    ideas: int = 0
    in_measures: int = 0  # ideas linked to at least one measure

    @property
    def share_in_measures(self):
        """Percent of the ideas that fed into a measure (None without ideas)."""
        return None if not self.ideas else Decimal(self.in_measures * 100) / Decimal(self.ideas)


@dataclass
class MeasureTotals:
    measures: int = 0
    savings_t_co2e_per_year: Decimal = ZERO
    savings_mwh_per_year: Decimal = ZERO


@dataclass
class ParticipationReport:
    rows: list  # [IdeaRow] per field of action, then "not yet assigned" when there are such ideas
    total: IdeaRow
    all_measures: MeasureTotals
    participation_measures: MeasureTotals  # measures with at least one visible linked idea


def _visible_link_exists():
    return (exists().where(IdeaMeasure.measure_id == Measure.id, IdeaMeasure.idea_id == Idea.id,
                           Idea.hidden_at.is_(None)))


def _measure_totals(where=None):
    query = select(func.count(Measure.id), func.sum(Measure.savings_t_co2e_per_year),
                   func.sum(Measure.savings_mwh_per_year))
    if where is not None:
        query = query.where(where)
    count, t_co2e, mwh = db.session.execute(query).one()
    return MeasureTotals(measures=count, savings_t_co2e_per_year=_dec(t_co2e), savings_mwh_per_year=_dec(mwh))


def participation_report():
    """What became of the visible ideas: status by field of action, the share that fed into measures,
    and the measures that came from the participation with their savings. Four queries in all."""
    linked = select(IdeaMeasure.idea_id).distinct().subquery()
    counts = db.session.execute(
        select(Idea.sector_id, Idea.status, func.count(Idea.id), func.count(linked.c.idea_id))
        .outerjoin(linked, linked.c.idea_id == Idea.id)
        .where(Idea.hidden_at.is_(None))
        .group_by(Idea.sector_id, Idea.status)
    ).all()
    used = {sector_id for sector_id, _status, _n, _linked in counts}
    sectors = db.session.scalars(select(Sector).order_by(Sector.position, Sector.name)).all()
    empty = {status.value: 0 for status in Status}
    rows = {sector.id: IdeaRow(code=sector.code, name=sector.name, by_status=dict(empty))
            for sector in sectors if sector.active or sector.id in used}
    if None in used:
        rows[None] = IdeaRow(code=None, name=_("noch nicht zugeordnet"), by_status=dict(empty))
    total = IdeaRow(code=None, name=_("Summe"), by_status=dict(empty))
    for sector_id, status, ideas, in_measures in counts:
        for row in (rows[sector_id], total):
            row.by_status[status] = row.by_status.get(status, 0) + ideas
            row.ideas += ideas
            row.in_measures += in_measures
    return ParticipationReport(
        rows=list(rows.values()), total=total, all_measures=_measure_totals(),
        participation_measures=_measure_totals(_visible_link_exists()))


# --- where a measure came from, besides the ideas -------------------------------------------------

class Origin(NamedTuple):
    """A session, decision or other step a measure came from (contributed by other modules)."""
    kind: str  # shown as is, e.g. "Arbeitskreis" or "Beschluss"
    title: str
    date: datetime.date | None = None
    url: str | None = None
    text: str = ""  # plain text, escaped on the page


_origin_providers = []
_SAFE_URL_STARTS = ("/", "https://", "http://")


def origin_provider(function):
    """Register `function(measure) -> [Origin or (kind, title, date, url, text)]`."""
    _origin_providers.append(function)
    return function


def origins_for(measure):
    """The contributed origins of a measure, oldest first (undated last)."""
    found = []
    for provider in _origin_providers:
        for entry in provider(measure) or ():
            origin = entry if isinstance(entry, Origin) else Origin(*entry)
            if origin.url and not origin.url.startswith(_SAFE_URL_STARTS):
                origin = origin._replace(url=None)  # never a javascript: or data: link on the page
            found.append(origin)
    return sorted(found, key=lambda origin: (origin.date is None, origin.date or datetime.date.min, origin.title))


# --- workshops and events behind the linked ideas ------------------------------------------------

EVENT_SOURCES = (Source.WORKSHOP.value, Source.EVENT.value, Source.WORKING_GROUP.value)


@dataclass
class EventGroup:
    source: Source
    event_name: str | None
    facilitators: list = field(default_factory=list)
    ideas: int = 0
    dot_votes: int = 0


def events_of(ideas):
    """The workshops, events and working-group sessions the given ideas came from, biggest first.

    Works on the already loaded ideas of one measure, so it runs no query.
    """
    groups = {}
    for idea in ideas:
        if idea.source not in EVENT_SOURCES:
            continue
        key = (idea.source, (idea.event_name or "").strip() or None)
        group = groups.get(key)
        if group is None:
            group = groups[key] = EventGroup(source=Source(idea.source), event_name=key[1])
        group.ideas += 1
        group.dot_votes += idea.dot_votes or 0
        if idea.facilitator and idea.facilitator not in group.facilitators:
            group.facilitators.append(idea.facilitator)
    return sorted(groups.values(), key=lambda g: (-g.ideas, -g.dot_votes, g.event_name or ""))
