"""Full-text search over ideas, index-backed on both databases.

- PostgreSQL: a stored generated column `search_vector` =
  `to_tsvector('german', title || ' ' || text)` with a GIN index; queries use
  `to_tsquery('german', ...)`, whose Snowball stemmer maps Radwege to radweg, and rank
  on the stored vector, so ranking thousands of matches does not re-parse their texts.
- SQLite: an FTS5 table `idea_search` whose rowid is the idea id and whose one
  column holds the Snowball-stemmed words of title and text. It is kept up to date
  by mapper events on Idea, so every write through the ORM updates it.

Every query word is matched as a prefix of a stem, so "Radweg" also finds
"Radwegenetz" and "Radwegen" on both databases.
"""
import re
import threading
from functools import lru_cache

import snowballstemmer
from sqlalchemy import DDL, column, event, func, literal_column, table, text

WORD = re.compile(r"\w+", re.UNICODE)
MAX_QUERY_WORDS = 8
SQLITE_TABLE = "idea_search"
POSTGRES_INDEX = "ix_ideas_fulltext"
POSTGRES_DOCUMENT = "to_tsvector('german'::regconfig, (coalesce(title, '') || ' ' || coalesce(text, '')))"

_stemmer = snowballstemmer.stemmer("german")
_stemmer_lock = threading.Lock()

SQLITE_CREATE = (f"CREATE VIRTUAL TABLE IF NOT EXISTS {SQLITE_TABLE} "
                 "USING fts5(terms, tokenize = 'unicode61 remove_diacritics 0')")
SQLITE_DROP = f"DROP TABLE IF EXISTS {SQLITE_TABLE}"
POSTGRES_COLUMN = "search_vector"
POSTGRES_ADD_COLUMN = (f"ALTER TABLE ideas ADD COLUMN IF NOT EXISTS {POSTGRES_COLUMN} tsvector "
                       f"GENERATED ALWAYS AS ({POSTGRES_DOCUMENT}) STORED")
POSTGRES_CREATE = f"CREATE INDEX IF NOT EXISTS {POSTGRES_INDEX} ON ideas USING gin ({POSTGRES_COLUMN})"
POSTGRES_DROP = f"DROP INDEX IF EXISTS {POSTGRES_INDEX}"


def words(value):
    return WORD.findall((value or "").lower())


@lru_cache(maxsize=100_000)
def stem(word):
    """The Snowball stem of one word, remembered: the pure-Python stemmer is slow, and texts
    repeat their words (loading the 800 demo ideas stems 138,000 words, 7,300 distinct ones).
    The stemmer keeps state while it works, so threads take turns."""
    with _stemmer_lock:
        return _stemmer.stemWord(word)


def stems(value):
    return [stem(word) for word in words(value)]


def document_terms(title, body):
    return " ".join(stems(f"{title} {body}"))


def is_search_object(name):
    """Objects that exist only in the database (FTS table, expression index): Alembic ignores them."""
    return bool(name) and (name in (POSTGRES_INDEX, POSTGRES_COLUMN) or name.startswith(SQLITE_TABLE))


def attach(idea_table, idea_mapper):
    """Create the search structures with the ideas table and keep SQLite's index current."""
    event.listen(idea_table, "after_create", DDL(SQLITE_CREATE).execute_if(dialect="sqlite"))
    event.listen(idea_table, "after_create", DDL(POSTGRES_ADD_COLUMN).execute_if(dialect="postgresql"))
    event.listen(idea_table, "after_create", DDL(POSTGRES_CREATE).execute_if(dialect="postgresql"))
    event.listen(idea_table, "before_drop", DDL(SQLITE_DROP).execute_if(dialect="sqlite"))

    def store(mapper, connection, idea):
        if connection.dialect.name == "sqlite":
            connection.execute(text(f"DELETE FROM {SQLITE_TABLE} WHERE rowid = :id"), {"id": idea.id})
            connection.execute(text(f"INSERT INTO {SQLITE_TABLE} (rowid, terms) VALUES (:id, :terms)"),
                               {"id": idea.id, "terms": document_terms(idea.title, idea.text)})

    def remove(mapper, connection, idea):
        if connection.dialect.name == "sqlite":
            connection.execute(text(f"DELETE FROM {SQLITE_TABLE} WHERE rowid = :id"), {"id": idea.id})

    event.listen(idea_mapper, "after_insert", store)
    event.listen(idea_mapper, "after_update", store)
    event.listen(idea_mapper, "after_delete", remove)


def rebuild(session):
    """Re-index every idea on SQLite (after bulk loads that bypassed the ORM)."""
    if session.get_bind().dialect.name != "sqlite":
        return
    session.execute(text(f"DELETE FROM {SQLITE_TABLE}"))
    rows = session.execute(text("SELECT id, title, text FROM ideas")).all()
    session.execute(text(f"INSERT INTO {SQLITE_TABLE} (rowid, terms) VALUES (:id, :terms)"),
                    [{"id": row.id, "terms": document_terms(row.title, row.text)} for row in rows])


def query_words(query):
    return [word for word in words(query)][:MAX_QUERY_WORDS]


def apply(query, session, idea_id, search):
    """Restrict `query` (a select of ideas) to those matching every word of `search`.

    Each word counts as a prefix of a stem. Returns (query, rank): order by `rank`
    ascending for the best matches first; rank is None when `search` has no words.
    """
    found = query_words(search)
    if not found:
        return query, None
    if session.get_bind().dialect.name == "postgresql":
        # to_tsquery stems each word with the German configuration; ":*" makes it a prefix.
        tsquery = func.to_tsquery(literal_column("'german'::regconfig"),
                                  " & ".join(f"{word}:*" for word in found))
        document = literal_column(f"ideas.{POSTGRES_COLUMN}")
        return query.where(document.op("@@")(tsquery)), -func.ts_rank(document, tsquery)
    fts = table(SQLITE_TABLE, column("rowid"), column("terms"))
    expression = " AND ".join(f'"{stem(word)}"*' for word in found)
    query = query.join(fts, fts.c.rowid == idea_id).where(literal_column(SQLITE_TABLE).op("MATCH")(expression))
    return query, literal_column(f"bm25({SQLITE_TABLE})")
