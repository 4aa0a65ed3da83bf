"""Finding ideas: the filters and orders shared by the list page, the API and the exports.

Every list runs a fixed number of statements whatever the number of ideas: one
count, one page of ideas with their sector, district and author joined in, and
one query for the current user's supports on that page.
"""
import random
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, cast, select

from ..extensions import db
from . import search
from .models import District, Idea, Sector, Source, Status
from .services import find_district, find_sector

SORTS = ("random", "newest", "supports", "comments", "relevance")
SORT_LABELS = {
    "random": _l("zufällig"),
    "newest": _l("neueste zuerst"),
    "supports": _l("meiste Unterstützung"),
    "comments": _l("meiste Kommentare"),
    "relevance": _l("beste Treffer (bei Suche)"),
}
PRIME = 2147483629  # largest prime below 2**31: keeps the mixing arithmetic inside 64 bits


@dataclass
class IdeaFilters:
    q: str = ""
    sector: Sector | None = None
    unassigned_sector: bool = False  # "weiß ich nicht" / not yet assigned
    district: District | None = None
    status: str | None = None
    source: str | None = None
    sort: str = "random"
    errors: dict = field(default_factory=dict)  # field -> German message

    def as_args(self):
        """The filters as URL parameters (for pagination and export links)."""
        args = {}
        if self.q:
            args["q"] = self.q
        if self.sector is not None:
            args["sector"] = self.sector.code
        elif self.unassigned_sector:
            args["sector"] = "unbekannt"
        if self.district is not None:
            args["district"] = self.district.code
        for name in ("status", "source"):
            if getattr(self, name):
                args[name] = getattr(self, name)
        args["sort"] = self.sort
        return args


def parse_filters(args, default_sort=None):
    """Read filters from request args; unknown values land in `errors` and are ignored."""
    filters = IdeaFilters(q=(args.get("q") or "").strip()[:200])
    sector = (args.get("sector") or "").strip()
    if sector in ("unbekannt", "none"):
        filters.unassigned_sector = True
    elif sector:
        filters.sector = find_sector(sector)
        if filters.sector is None:
            filters.errors["sector"] = _("Unbekanntes Handlungsfeld im Feld „sector“: %(value)s", value=sector[:80])
    district = (args.get("district") or "").strip()
    if district:
        filters.district = find_district(district)
        if filters.district is None:
            filters.errors["district"] = _("Unbekannter Stadtteil im Feld „district“: %(value)s",
                                           value=district[:80])
    status = (args.get("status") or "").strip()
    if status:
        if status in {s.value for s in Status}:
            filters.status = status
        else:
            filters.errors["status"] = _("Unbekannter Status im Feld „status“: %(value)s", value=status[:80])
    source = (args.get("source") or "").strip()
    if source:
        if source in {s.value for s in Source}:
            filters.source = source
        else:
            filters.errors["source"] = _("Unbekannte Herkunft im Feld „source“: %(value)s", value=source[:80])
    sort = (args.get("sort") or "").strip()
    if sort and sort not in SORTS:
        filters.errors["sort"] = _("Unbekannte Sortierung im Feld „sort“: %(value)s", value=sort[:80])
        sort = ""
    filters.sort = sort or default_sort or ("relevance" if filters.q else "random")
    if filters.sort == "relevance" and not search.query_words(filters.q):
        filters.sort = "newest"
    return filters


def random_order(seed):
    """A pseudo-random order of ideas that stays the same for one seed.

    A multiplicative hash modulo a prime followed by a quadratic round, in plain 64-bit
    integer arithmetic that SQLite and PostgreSQL compute alike (every product stays below
    2**62). The quadratic round matters: two linear rounds collapse into one, and about one
    seed in ninety then listed the first ideas in plain id order. The id breaks ties, so the
    order is total and pages never overlap.
    """
    rng = random.Random(seed)
    a, b = rng.randrange(2**29, 2**30), rng.randrange(2**30, 2**31 - 1)
    c = rng.randrange(PRIME)
    idea_id = cast(Idea.id, BigInteger)  # PostgreSQL would overflow a 32-bit integer
    spread = (idea_id * a + c) % PRIME
    mixed = ((spread * spread % PRIME) * b + spread) % PRIME
    return (mixed, Idea.id)


def build_query(filters, *, include_hidden=False, seed=0):
    """A select of ideas for `filters`, ordered, unpaged."""
    query = select(Idea)
    if not include_hidden:
        query = query.where(Idea.hidden_at.is_(None))
    if filters.sector is not None:
        query = query.where(Idea.sector_id == filters.sector.id)
    elif filters.unassigned_sector:
        query = query.where(Idea.sector_id.is_(None))
    if filters.district is not None:
        query = query.where(Idea.district_id == filters.district.id)
    if filters.status:
        query = query.where(Idea.status == filters.status)
    if filters.source:
        query = query.where(Idea.source == filters.source)
    rank = None
    if filters.q:
        query, rank = search.apply(query, db.session, Idea.id, filters.q)
    if filters.sort == "relevance" and rank is not None:
        return query.order_by(rank, Idea.id.desc())
    if filters.sort == "newest":
        return query.order_by(Idea.created_at.desc(), Idea.id.desc())
    if filters.sort == "supports":
        return query.order_by((Idea.support_count + Idea.dot_votes).desc(), Idea.id.desc())
    if filters.sort == "comments":
        return query.order_by(Idea.comment_count.desc(), Idea.id.desc())
    return query.order_by(*random_order(seed))
