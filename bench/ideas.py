"""Latency and SQL statements of the idea list (HTML and API) at 1,000 and 10,000 ideas.

Seeds a scratch database in bulk (SQLAlchemy core) with German texts, supports and
comments, rebuilds the SQLite search index, and prints p50/p95/max over 30 requests
per list through the WSGI test client, plus the number of SQL statements each list
request runs. Runs on a SQLite file and, when a PostgreSQL server answers on
127.0.0.1:5432, also on a scratch database `beteiligung_bench` (created and dropped).

The texts come from the CIMT corpus of real contributions in ../shared/corpora/
(read there, never copied) or, where it is absent, from combined sentence fragments.
"""
import csv
import os
import random
import socket
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from .support import measure, scratch_app

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpora" / "cimt-beteiligung" / "beitraege.csv"
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
POSTGRES_BENCH_DB = "beteiligung_bench"
REPEAT = 30
SIZES = (1_000, 10_000)
USERS = 3_000
SEED = 2035

DISTRICTS = [
    "Gesamtes Stadtgebiet", "Jena-Zentrum", "Jena-Nord", "Jena-Ost", "Jena-Süd", "Jena-West", "Wenigenjena",
    "Lobeda-Ost", "Lobeda-West", "Alt-Lobeda", "Winzerla", "Zwätzen", "Löbstedt", "Kernberge", "Burgau",
    "Göschwitz", "Ammerbach", "Isserstedt", "Drackendorf", "Ziegenhain", "Wöllnitz", "Kunitz", "Lichtenhain",
    "Beutenberg",
]
SECTOR_WEIGHTS = {"mobilitaet": 40, "energie": 15, "wohngebaeude": 10, "unternehmen": 5, "verwaltung": 8,
                  "uebergreifend": 10, None: 12}
STATUS_WEIGHTS = {"submitted": 70, "in_review": 12, "in_measure": 7, "merged": 2, "not_feasible": 3,
                  "out_of_scope": 3, "already_done": 3}

# Fallback texts: combined fragments, so that no two ideas read alike.
SUBJECTS = ["Ein durchgehender Radweg", "Mehr Fahrradbügel", "Eine Photovoltaikanlage", "Tempo 30",
            "Ein Carsharing-Stellplatz", "Eine Ladesäule für E-Autos", "Mehr Straßenbäume", "Ein Reparaturcafé",
            "Eine Energieberatung für Mieter", "Ein Wärmenetz", "Eine bessere Taktung der Straßenbahn",
            "Ein sicherer Schulweg", "Ein Balkonkraftwerk-Programm", "Eine Dachbegrünung",
            "Eine Fahrradstraße", "Ein Lastenrad zum Ausleihen"]
PLACES = ["an der Saale", "in Lobeda-Ost", "vor der Grundschule", "am Holzmarkt", "in Winzerla",
          "am Paradiesbahnhof", "auf dem Rathausdach", "in der Wagnergasse", "in Wenigenjena",
          "an der Stadtrodaer Straße", "im Damenviertel", "am Westbahnhof", "in Zwätzen", "am Ernst-Abbe-Platz"]
REASONS = ["Dort ist es für Kinder und ältere Menschen gefährlich.", "Das spart jedes Jahr viele Tonnen CO₂.",
           "Viele Nachbarn würden sofort mitmachen.", "Andere Städte haben damit gute Erfahrungen gemacht.",
           "Bisher fehlt hier jede Alternative zum Auto.", "Die Stadtwerke könnten das gemeinsam mit uns planen.",
           "Im Sommer wird es dort unerträglich heiß.", "Das wäre auch für den Handel vor Ort gut.",
           "Die Fläche liegt seit Jahren ungenutzt.", "Mit Fördermitteln des Bundes ist das bezahlbar."]
COMMENTS = ["Gute Idee, unterstütze ich!", "Das sehe ich anders: dort fehlt der Platz.",
            "Wer soll das bezahlen?", "Genau das habe ich mir auch schon gedacht.",
            "In Erfurt gibt es so etwas schon, das funktioniert gut.", "Bitte auch an die Anwohner denken.",
            "Ich fahre dort täglich, es ist wirklich dringend.", "Vielleicht zuerst als Versuch für ein Jahr?"]


def _texts(rng):
    """(title, text) pairs: the corpus if present, else generated ones."""
    rows = []
    if CORPUS.exists():
        with CORPUS.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                title, text = (row.get("title") or "").strip(), (row.get("text") or "").strip()
                if title and text:
                    rows.append((title[:120], text[:4500]))
    if rows:
        return rows, f"Texte aus {CORPUS.name} ({_n(len(rows))} Beiträge mit Titel und Text, gelesen aus ../shared/)"
    generated = []
    for _ in range(5_000):
        title = f"{rng.choice(SUBJECTS)} {rng.choice(PLACES)}"
        text = " ".join(rng.sample(REASONS, rng.randint(2, 4)))
        generated.append((title, f"{title}. {text}"))
    return generated, "Korpus ../shared/corpora/cimt-beteiligung fehlt: Texte aus Satzbausteinen"


def _n(value):
    """A number the German way: 10.000."""
    return f"{value:,}".replace(",", ".")


def _weighted(rng, weights):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _reference_data():
    """Fields of action, districts, open phases, users; returns the id lists for seeding."""
    from sqlalchemy import insert, select

    from beteiligung.auth.models import User, new_session_token
    from beteiligung.extensions import db
    from beteiligung.ideas.demo import slugify
    from beteiligung.ideas.models import District, Phase, Sector
    from beteiligung.ideas.services import ensure_default_sectors
    from beteiligung.models import utcnow

    ensure_default_sectors()
    now = utcnow()
    db.session.execute(insert(District), [{"code": slugify(name), "name": name, "position": position,
                                           "active": True} for position, name in enumerate(DISTRICTS, 1)])
    db.session.execute(insert(Phase), [{"kind": kind, "starts_at": now - timedelta(days=30),
                                        "ends_at": now + timedelta(days=30)}
                                       for kind in (Phase.COLLECTION, Phase.SUPPORT)])
    db.session.execute(insert(User), [
        {"email": f"buerger{n}@example.org", "display_name": f"Bürgerin {n}", "password_hash": "x",
         "role": "citizen", "session_token": new_session_token(), "created_at": now, "updated_at": now}
        for n in range(USERS)])
    db.session.commit()
    sectors = {code: sector_id for code, sector_id in db.session.execute(select(Sector.code, Sector.id))}
    return {
        "sectors": {code: sectors.get(code) for code in SECTOR_WEIGHTS},
        "districts": list(db.session.scalars(select(District.id).order_by(District.position))),
        "users": list(db.session.scalars(select(User.id).order_by(User.id))),
    }


def _add_ideas(count, start, refs, texts, rng):
    """Ideas start+1 .. start+count with their supports and comments; counters match the rows."""
    from sqlalchemy import insert, text

    from beteiligung.extensions import db
    from beteiligung.ideas.models import Comment, Idea, Support
    from beteiligung.models import utcnow

    now = utcnow()
    ideas, supports, comments = [], [], []
    for idea_id in range(start + 1, start + count + 1):
        title, body = texts[(idea_id * 7919) % len(texts)]
        if idea_id > len(texts):  # the corpus is used more than once: vary the second use
            body = f"{body}\n\n{rng.choice(REASONS)}"
        created = now - timedelta(minutes=rng.randint(0, 60 * 24 * 90))
        analog = rng.random() < 0.08
        status = _weighted(rng, STATUS_WEIGHTS)
        popularity = min(500, int(rng.paretovariate(1.3)) - 1)  # most ideas few, some very many
        supporters = [] if analog else rng.sample(refs["users"], popularity)
        writers = int(rng.expovariate(1 / 1.5))
        hidden = rng.random() < 0.01
        ideas.append({
            "id": idea_id, "title": title, "text": body,
            "sector_id": refs["sectors"][_weighted(rng, SECTOR_WEIGHTS)],
            "district_id": rng.choice(refs["districts"]),
            "author_id": None if analog else rng.choice(refs["users"]),
            "source": rng.choice(("workshop", "event")) if analog else "online",
            "event_name": "Bürgerforum Klima im Volkshaus" if analog else None,
            "dot_votes": rng.randint(0, 25) if analog else 0,
            "status": status,
            "answer": None if status in ("submitted", "in_review") else "Vielen Dank, wir haben das geprüft.",
            "answered_at": None if status in ("submitted", "in_review") else created + timedelta(days=5),
            "support_count": len(supporters), "comment_count": writers, "report_count": 0,
            "hidden_at": created + timedelta(hours=2) if hidden else None,
            "hidden_reason": "Beleidigend" if hidden else None,
            "created_at": created, "updated_at": created,
        })
        supports += [{"idea_id": idea_id, "user_id": user_id, "created_at": created + timedelta(hours=1)}
                     for user_id in supporters]
        comments += [{"idea_id": idea_id, "author_id": rng.choice(refs["users"]), "text": rng.choice(COMMENTS),
                      "is_official": False, "report_count": 0, "created_at": created + timedelta(hours=3),
                      "updated_at": created + timedelta(hours=3)} for _ in range(writers)]
    for table, rows in ((Idea, ideas), (Support, supports), (Comment, comments)):
        for first in range(0, len(rows), 5_000):
            db.session.execute(insert(table), rows[first:first + 5_000])
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT setval(pg_get_serial_sequence('ideas', 'id'), (SELECT max(id) FROM ideas))"))
    db.session.commit()
    return len(supports), len(comments)


def _finish_load():
    """After a bulk load: the SQLite search index; on PostgreSQL fresh planner statistics.

    PostgreSQL's autovacuum would analyse the tables soon after such a load anyway.
    SQLite keeps no statistics unless someone runs ANALYZE, so neither does the bench:
    with them, SQLite takes `hidden_at IS NULL` for selective (ix_ideas_visible_created)
    and scans nearly every idea for a sector and district filter.
    """
    from sqlalchemy import text

    from beteiligung.extensions import db
    from beteiligung.ideas import search

    search.rebuild(db.session)
    db.session.commit()
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("ANALYZE"))
        db.session.commit()


@contextmanager
def _statement_counter(app):
    from sqlalchemy import event

    from beteiligung.extensions import db

    counter = {"n": 0}

    def count(*_args):
        counter["n"] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _queries(app, client, path):
    with _statement_counter(app) as counter:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return counter["n"]


def _signed_in_client(app):
    from beteiligung.auth.services import register_user
    from beteiligung.extensions import db

    with app.test_request_context():
        user = register_user("bench@example.org", "Bench", "Birke-Saale-Windrad-7", check_strength=False)
        db.session.commit()
        token = user.session_token
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = token
    return client


def _bench(label):
    rng = random.Random(SEED)
    with scratch_app() as app:
        with app.app_context():
            texts, origin = _texts(rng)
            refs = _reference_data()
        print(f"   [{label}] {origin}")
        anonymous, member = app.test_client(), _signed_in_client(app)
        pages = [
            ("GET /ideen/  (zufällige Reihenfolge)", anonymous, "/ideen/"),
            ("GET /ideen/  (angemeldet, zufällig)", member, "/ideen/"),
            ("GET /ideen/?sort=supports", anonymous, "/ideen/?sort=supports"),
            ("GET /ideen/?q=Radweg", anonymous, "/ideen/?q=Radweg"),
            ("GET /ideen/?sector=mobilitaet&district=lobeda-ost", anonymous,
             "/ideen/?sector=mobilitaet&district=lobeda-ost"),
            ("GET /ideen/?page=50", anonymous, "/ideen/?page=50"),
            ("GET /api/v1/ideas", anonymous, "/api/v1/ideas"),
            ("GET /api/v1/ideas?q=Radweg&per_page=100", anonymous, "/api/v1/ideas?q=Radweg&per_page=100"),
        ]
        total = 0
        for target in SIZES:
            with app.app_context():
                supports, comments = _add_ideas(target - total, total, refs, texts, rng)
                _finish_load()
            total = target
            print(f"   [{label}] -- {_n(total)} Ideen (+{_n(supports)} Unterstützungen, +{_n(comments)} Kommentare)")
            for name, client, path in pages:
                p50, p95, worst = measure(lambda: client.get(path), REPEAT)
                statements = _queries(app, client, path)
                print(f"   {name:52} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   max {worst:7.1f} ms   "
                      f"SQL {statements:2d}")


def _postgres_answers():
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def _postgres_database():
    """A fresh database `beteiligung_bench`, dropped afterwards; None if PostgreSQL refuses."""
    import psycopg

    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.Error as error:
        print(f"   PostgreSQL antwortet, aber die Anmeldung scheitert ({error}); übersprungen.")
        yield None
        return
    with admin:
        admin.execute(f"DROP DATABASE IF EXISTS {POSTGRES_BENCH_DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {POSTGRES_BENCH_DB}")
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{POSTGRES_BENCH_DB}"
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {POSTGRES_BENCH_DB} WITH (FORCE)")


def run():
    if os.environ.get("BENCH_DATABASE_URL"):  # the caller chose the database
        _bench(os.environ["BENCH_DATABASE_URL"].split(":")[0])
        return
    _bench("SQLite")
    if not _postgres_answers():
        print("   PostgreSQL antwortet nicht auf 127.0.0.1:5432; nur SQLite gemessen.")
        return
    with _postgres_database() as url:
        if url is None:
            return
        os.environ["BENCH_DATABASE_URL"] = url
        try:
            _bench("PostgreSQL")
        finally:
            os.environ.pop("BENCH_DATABASE_URL", None)
