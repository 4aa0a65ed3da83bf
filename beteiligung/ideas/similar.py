"""Similar ideas for the writing form and the detail page, through the analysis module.

The index is kept per process. When ideas were added or changed, it is rebuilt at
most every SIMILAR_REBUILD_SECONDS, in a background thread while requests keep
using the previous index, so no request waits for a rebuild (about a second at
10,000 ideas). Until the first build is done, there are no suggestions. Tests set
SIMILAR_BUILD_IN_BACKGROUND=False and get a synchronous, always fresh index.
"""
import logging
import threading
import time

from flask import current_app
from sqlalchemy import func, select

from analyse.similar import SimilarityIndex

from ..extensions import db
from .models import Idea

REBUILD_SECONDS = 30
log = logging.getLogger(__name__)

_lock = threading.Lock()
_cache = {"key": None, "signature": None, "built": 0.0, "index": None, "building": False}


class _NotBuiltYet:
    """Stands in for the index while the first one is built: no suggestions. (An empty
    SimilarityIndex would load the language pipeline at import, 1.2 s per process start.)"""

    @staticmethod
    def query(_text, limit=5, exclude=()):
        return []


_EMPTY = _NotBuiltYet()


def _signature():
    return tuple(db.session.execute(
        select(func.count(Idea.id), func.max(Idea.updated_at)).where(Idea.hidden_at.is_(None))
    ).one())


def _build():
    rows = db.session.execute(select(Idea.id, Idea.title, Idea.text).where(Idea.hidden_at.is_(None))).all()
    return SimilarityIndex([(row.id, f"{row.title}. {row.title}. {row.text}") for row in rows])


def _store(key, signature, index):
    with _lock:
        _cache.update(key=key, signature=signature, built=time.monotonic(), index=index, building=False)


def _build_in_background(app, key, signature):
    def work():
        try:
            with app.app_context():
                index = _build()
                db.session.remove()
            _store(key, signature, index)
        except Exception:
            log.exception("building the similar-ideas index failed")
            with _lock:
                _cache["building"] = False

    threading.Thread(target=work, name="similar-ideas-index", daemon=True).start()


def current_index():
    """The index for the current database; rebuilt when ideas changed (see module docstring)."""
    config = current_app.config
    key = str(db.engine.url)
    signature = _signature()
    with _lock:
        same_database = _cache["key"] == key and _cache["index"] is not None
        if same_database and signature == _cache["signature"]:
            return _cache["index"]
        due = time.monotonic() - _cache["built"] >= config.get("SIMILAR_REBUILD_SECONDS", REBUILD_SECONDS)
        background = config.get("SIMILAR_BUILD_IN_BACKGROUND", True)
        if same_database and not (due and not _cache["building"]):
            return _cache["index"]  # fresh enough, or a rebuild is already running
        if background:
            if not _cache["building"]:
                _cache["building"] = True
                if not same_database:
                    _cache.update(key=key, index=None, signature=None)
                _build_in_background(current_app._get_current_object(), key, signature)
            return _cache["index"] if same_database else _EMPTY
    index = _build()
    _store(key, signature, index)
    return index


def first_build_running():
    """Whether the index for this database is still being built for the first time (the
    suggestions are empty until then, so the writing form asks again shortly)."""
    with _lock:
        return _cache["building"] and _cache["index"] is None


def reset():
    with _lock:
        _cache.update(key=None, signature=None, built=0.0, index=None, building=False)


def similar_ideas(title, text="", limit=5, exclude=()):
    """Visible ideas similar to a draft, best first: [(Idea, score)]."""
    query = f"{title or ''}. {title or ''}. {text or ''}"
    matches = current_index().query(query, limit=limit, exclude=exclude)
    if not matches:
        return []
    ideas = {idea.id: idea for idea in db.session.scalars(
        select(Idea).where(Idea.id.in_([m.id for m in matches]), Idea.hidden_at.is_(None)))}
    return [(ideas[m.id], m.score) for m in matches if m.id in ideas]
