"""Latency and SQL statements of the measure plan's pages and API with 10,000 ideas and 80 measures.

Seeds a scratch database like the idea benchmark (bulk inserts), adds 80 measure sheets
through the real service (with milestones, carriers and indicators) and links about a
third of the ideas to them, then prints p50/p95/max over 30 requests and the SQL
statements per request for the catalogue, the overview per field of action, the report
"Was wurde aus den Ideen?", one sheet with 300 linked ideas, and the API list. Runs on
SQLite and, when PostgreSQL answers on 127.0.0.1:5432, on a scratch database.
"""
import os
import random
from decimal import Decimal

from . import ideas as idea_bench
from .support import measure, scratch_app

IDEAS = 10_000
MEASURES = 80
REPEAT = 30
SEED = 2035


def _add_measures(rng):
    from sqlalchemy import insert, select

    from beteiligung.extensions import db
    from beteiligung.ideas.models import Idea, Sector
    from beteiligung.measures import services
    from beteiligung.measures.models import IdeaMeasure, Measure
    from beteiligung.models import utcnow

    sectors = db.session.scalars(select(Sector.code).order_by(Sector.position)).all()
    for number in range(MEASURES):
        services.save_sheet(None, None, {
            "title": f"Maßnahme {number + 1}: {rng.choice(idea_bench.SUBJECTS)} {rng.choice(idea_bench.PLACES)}",
            "sector": sectors[number % len(sectors)], "measure_type": "technisch", "priority": "hoch",
            "description": " ".join(rng.sample(idea_bench.REASONS, 4)), "start_year": "2026", "end_year": "2030",
            "cost_one_off_eur": str(rng.randint(10, 5000) * 1000), "savings_mwh_per_year": str(rng.randint(10, 9000)),
            "savings_t_co2e_per_year": str(rng.randint(5, 3000)), "status": rng.choice(["geplant", "in Umsetzung"]),
            "progress": str(rng.randint(0, 90))},
            milestones=[services.Milestone(f"Schritt {n}") for n in range(3)],
            indicators=[services.Indicator("Ladepunkte", "Anzahl", Decimal(10), 2022, Decimal(400), 2030,
                                           [(2023, Decimal(40), ""), (2024, Decimal(90), "")])])
    db.session.flush()
    measure_ids = db.session.scalars(select(Measure.id).order_by(Measure.id)).all()
    idea_ids = db.session.scalars(select(Idea.id).where(Idea.hidden_at.is_(None))).all()
    now, links = utcnow(), []
    for idea_id in rng.sample(idea_ids, len(idea_ids) // 3):
        links.append({"idea_id": idea_id, "measure_id": measure_ids[0] if len(links) < 300 else rng.choice(measure_ids),
                      "reason": "Die Idee gehört zu dieser Maßnahme.", "created_at": now})
    db.session.execute(insert(IdeaMeasure), links)
    for measure_id in measure_ids:
        db.session.get(Measure, measure_id).idea_count = sum(1 for link in links if link["measure_id"] == measure_id)
    db.session.commit()
    return measure_ids[0], len(links)


def _bench(label):
    rng = random.Random(SEED)
    with scratch_app() as app:
        with app.app_context():
            texts, _origin = idea_bench._texts(rng)
            refs = idea_bench._reference_data()
            idea_bench._add_ideas(IDEAS, 0, refs, texts, rng)
            idea_bench._finish_load()
        with app.test_request_context():
            first, links = _add_measures(rng)
        print(f"   [{label}] {idea_bench._n(IDEAS)} Ideen, {MEASURES} Maßnahmen, {idea_bench._n(links)} Zuordnungen")
        client = app.test_client()
        pages = [
            ("GET /massnahmen/", "/massnahmen/"),
            ("GET /massnahmen/?sector=mobilitaet&status=in_progress", "/massnahmen/?sector=mobilitaet&status=in_progress"),
            ("GET /massnahmen/handlungsfelder", "/massnahmen/handlungsfelder"),
            ("GET /massnahmen/was-wurde-aus-den-ideen", "/massnahmen/was-wurde-aus-den-ideen"),
            ("GET /massnahmen/<id> (300 Ideen)", f"/massnahmen/{first}"),
            ("GET /api/v1/measures?per_page=100", "/api/v1/measures?per_page=100"),
            ("GET /api/v1/measures/<id>", f"/api/v1/measures/{first}"),
        ]
        for name, path in pages:
            if client.get(path).status_code != 200:
                print(f"   {name:52} nicht vorhanden ({client.get(path).status_code})")
                continue
            p50, p95, worst = measure(lambda: client.get(path), REPEAT)
            statements = idea_bench._queries(app, client, path)
            print(f"   {name:52} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   max {worst:7.1f} ms   SQL {statements:2d}")


def run():
    if os.environ.get("BENCH_DATABASE_URL"):
        _bench(os.environ["BENCH_DATABASE_URL"].split(":")[0])
        return
    _bench("SQLite")
    if not idea_bench._postgres_answers():
        print("   PostgreSQL antwortet nicht auf 127.0.0.1:5432; nur SQLite gemessen.")
        return
    with idea_bench._postgres_database() as url:
        if url is None:
            return
        os.environ["BENCH_DATABASE_URL"] = url
        try:
            _bench("PostgreSQL")
        finally:
            os.environ.pop("BENCH_DATABASE_URL", None)
