"""Latency of the foundation's pages and API lists at 1,000 and 10,000 accounts.

Prints p50/p95/max per page through the WSGI test client (no network), so the figures
show the application's own cost: queries, templates, password hashing.
"""
from .support import measure, report, scratch_app


def _add_users(count, start):
    from sqlalchemy import insert

    from beteiligung.auth.models import User, new_session_token
    from beteiligung.extensions import db
    from beteiligung.models import utcnow

    now = utcnow()
    rows = [
        {"email": f"person{n}@example.org", "display_name": f"Person {n}", "password_hash": "x",
         "role": ("citizen", "member", "staff")[n % 3], "session_token": new_session_token(),
         "created_at": now, "updated_at": now}
        for n in range(start, start + count)
    ]
    db.session.execute(insert(User), rows)
    db.session.commit()


def run():
    from werkzeug.security import generate_password_hash

    from beteiligung.auth.services import create_api_token, register_user
    from beteiligung.extensions import db

    with scratch_app() as app:
        with app.test_request_context():
            admin = register_user("admin@example.org", "Admin", "Birke-Saale-Windrad-7", role="admin",
                                  check_strength=False)
            db.session.flush()
            _token, secret = create_api_token(admin, "bench")
            db.session.commit()
            session_token = admin.session_token
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = session_token
        api = {"Authorization": f"Bearer {secret}"}

        total = 1
        for target in (1_000, 10_000):
            with app.app_context():
                _add_users(target - total, total)
            total = target
            print(f"   -- {total:,} Konten".replace(",", "."))
            report("GET /  (Startseite)", measure(lambda: client.get("/"), 50))
            report("GET /verwaltung/benutzer  (Seite 1 von 50er-Seiten)",
                   measure(lambda: client.get("/verwaltung/benutzer"), 30))
            report("GET /verwaltung/benutzer?q=person99", measure(lambda: client.get("/verwaltung/benutzer?q=person99"), 30))
            report("GET /api/v1/users?per_page=100&page=10",
                   measure(lambda: client.get("/api/v1/users?per_page=100&page=10", headers=api), 30))

        report("Passwort-Hash (scrypt, Produktionseinstellung)",
               measure(lambda: generate_password_hash("Birke-Saale-Windrad-7", method="scrypt"), 10))
