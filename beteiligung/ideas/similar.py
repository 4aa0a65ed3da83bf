"""Similar ideas for the writing form and the detail page, through the analysis module.

The index is kept per process and rebuilt when ideas were added or changed, at
most every REBUILD_SECONDS, so a burst of new ideas does not rebuild it each time.
"""
import threading
import time

from flask import current_app
from sqlalchemy import func, select

from analyse.similar import SimilarityIndex

from ..extensions import db
from .models import Idea

REBUILD_SECONDS = 30

_lock = threading.Lock()
_cache = {"key": None, "signature": None, "built": 0.0, "index": None}


def _signature():
    return tuple(db.session.execute(
        select(func.count(Idea.id), func.max(Idea.updated_at)).where(Idea.hidden_at.is_(None))
    ).one())


def _build():
    rows = db.session.execute(select(Idea.id, Idea.title, Idea.text).where(Idea.hidden_at.is_(None))).all()
    return SimilarityIndex([(row.id, f"{row.title}. {row.title}. {row.text}") for row in rows])


def current_index():
    key = str(db.engine.url)
    signature = _signature()
    with _lock:
        fresh = _cache["key"] == key and _cache["index"] is not None
        wait = current_app.config.get("SIMILAR_REBUILD_SECONDS", REBUILD_SECONDS)
        if fresh and (signature == _cache["signature"] or time.monotonic() - _cache["built"] < wait):
            return _cache["index"]
        index = _build()
        _cache.update(key=key, signature=signature, built=time.monotonic(), index=index)
        return index


def reset():
    with _lock:
        _cache.update(key=None, signature=None, built=0.0, index=None)


def similar_ideas(title, text="", limit=5, exclude=()):
    """Visible ideas similar to a draft, best first: [(Idea, score)]."""
    query = f"{title or ''}. {title or ''}. {text or ''}"
    matches = current_index().query(query, limit=limit, exclude=exclude)
    if not matches:
        return []
    ideas = {idea.id: idea for idea in db.session.scalars(
        select(Idea).where(Idea.id.in_([m.id for m in matches]), Idea.hidden_at.is_(None)))}
    return [(ideas[m.id], m.score) for m in matches if m.id in ideas]
