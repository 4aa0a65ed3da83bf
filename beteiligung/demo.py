"""The demo process: accounts for every role and, from the areas, their demo content.

`load_demo()` only runs on an empty database. Each area adds a step with
`@demo_step(order)`; steps run in order inside one transaction.
"""
from sqlalchemy import func, select

from .auth.models import User
from .roles import Role
from .auth.services import register_user
from .extensions import db

# Demo logins, printed by run.py. Passwords are public on purpose: this is demo data.
DEMO_LOGINS = [
    ("admin@beteiligung.example.org", "Klimaplan-Birke-Admin", Role.ADMIN, "Annett Kröber (Klimaschutzmanagement)"),
    ("verwaltung@beteiligung.example.org", "Saale-Fahrrad-Sichtung", Role.STAFF, "Jonas Wendt (Beteiligung)"),
    ("arbeitskreis@beteiligung.example.org", "Linde-Windrad-Sitzung", Role.MEMBER, "Dr. Sabine Aurich (Stadtwerke)"),
    ("buergerin@beteiligung.example.org", "Ahorn-Sonne-Balkon", Role.CITIZEN, "Mia aus Lobeda"),
]

# Further citizens, so that later demo content has many voices (no login printed).
DEMO_CITIZENS = [
    "Klaus R.", "Fahrradfahrerin_Wenigenjena", "Henrike Mössner", "Opa Günter", "Lukas (17)",
    "Familie Treptow", "Ayşe K.", "Radler aus Winzerla", "Tobias Brandl", "Petra aus Zwätzen",
    "Johanna S.", "Mehmet Yıldız", "Uwe Sch.", "Studi_Ernst-Abbe", "Karin Lehmann-Vogt",
    "Dirk aus Kernberge", "Nele P.", "Vater von drei Kindern", "Rentnerin Ilse", "Björn Hartung",
]

_steps = []


def demo_step(order):
    """Register a function that adds one area's demo content (called with no arguments)."""
    def register(function):
        _steps.append((order, function))
        return function
    return register


def database_is_empty():
    return db.session.scalar(select(func.count(User.id))) == 0


@demo_step(10)
def _load_accounts():
    for email, password, role, name in DEMO_LOGINS:
        register_user(email, name, password, role=role, check_strength=False)
    for number, name in enumerate(DEMO_CITIZENS, start=1):
        register_user(f"buerger{number:02d}@beteiligung.example.org", name,
                      f"Demo-Buerger-{number:02d}-Zugang", check_strength=False)
    db.session.flush()


def load_demo():
    """Fill an empty database with the demo process. Returns False if it was not empty."""
    if not database_is_empty():
        return False
    for _order, step in sorted(_steps, key=lambda item: item[0]):
        step()
    db.session.commit()
    return True


def demo_logins_present():
    emails = [email for email, *_ in DEMO_LOGINS]
    return db.session.scalar(select(func.count(User.id)).where(User.email.in_(emails))) == len(emails)


def format_demo_logins():
    lines = ["Demo-Zugänge (E-Mail / Passwort / Rolle):"]
    for email, password, role, _name in DEMO_LOGINS:
        lines.append(f"  {email:40} {password:24} {role.label}")
    return "\n".join(lines)
