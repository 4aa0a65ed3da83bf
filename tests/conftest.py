"""Fixtures: the app on a real database (SQLite file, or PostgreSQL via TEST_DATABASE_URL),
a clean database for every test, clients logged in per role, and factories."""
import os
import re
from dataclasses import dataclass
from types import SimpleNamespace

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
# One BLAS and OpenMP thread (set before numpy is imported, inherited by subprocesses): with two,
# the analysis (numpy, scikit-learn) spins a second thread and becomes several times slower as soon
# as the other core is busy, e.g. when .ci/run tests SQLite and PostgreSQL at the same time.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402
from sqlalchemy import event, text  # noqa: E402
from sqlalchemy.exc import DBAPIError  # noqa: E402

from beteiligung import create_app  # noqa: E402
from beteiligung.config import TestingConfig  # noqa: E402
from beteiligung.extensions import db, limiter  # noqa: E402
from beteiligung.ideas.search import SQLITE_TABLE as SQLITE_SEARCH_TABLE  # noqa: E402

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
DEFAULT_PASSWORD = "Fahrradstraße-Saalbahnhof-42"
ROLES = ["anonymous", "citizen", "member", "staff", "admin"]


def is_postgres(url=None):
    return (url or TEST_DATABASE_URL).startswith(("postgres", "postgresql"))


def pytest_report_header(config):
    return f"database: {'PostgreSQL ' + TEST_DATABASE_URL if TEST_DATABASE_URL else 'SQLite (temporary file)'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if TEST_DATABASE_URL:
        return TEST_DATABASE_URL
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    config = TestingConfig(database_url)
    config.INSTANCE_PATH = str(tmp_path_factory.mktemp("instance"))  # uploads: not the project's, not shared
    app = create_app(config)
    with app.app_context():
        _commit_without_waiting_for_the_disk(db.engine)
        if is_postgres(database_url):
            db.session.execute(text("DROP SCHEMA public CASCADE"))
            db.session.execute(text("CREATE SCHEMA public"))
            db.session.commit()
        else:
            db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def _commit_without_waiting_for_the_disk(engine):
    """A commit returns before its flush to the disk: a test database need not survive a power
    cut, and what other connections see, isolation and locks stay the same. Per commit this
    took 2.6 ms -> 0.03 ms on SQLite (WAL) and 6 ms -> 0.5 ms on PostgreSQL."""
    postgres = engine.dialect.name == "postgresql"
    statement = "SET synchronous_commit TO off" if postgres else "PRAGMA synchronous = OFF"

    def configure(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute(statement)
        cursor.close()
        if postgres:
            dbapi_connection.commit()

    event.listen(engine, "connect", configure)
    engine.dispose()  # connections opened before follow it too


def _empty_tables():
    """Empty every table; ids start at 1 again, as after a fresh `create_all`."""
    tables = [table.name for table in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        # DELETE and a reset of the used sequences, in one round trip, take 2 ms. TRUNCATE of
        # the ~50 tables took 0.2-0.3 s per test (new files for every table and index), which
        # was most of the PostgreSQL run.
        try:
            db.session.execute(text(
                "DO $$BEGIN " + " ".join(f"DELETE FROM {name};" for name in tables)
                + " PERFORM setval(quote_ident(schemaname) || '.' || quote_ident(sequencename), 1, false)"
                " FROM pg_sequences WHERE schemaname = current_schema() AND last_value IS NOT NULL; END$$"))
        except DBAPIError:  # references that DELETE cannot resolve in table order
            db.session.rollback()
            db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    else:
        for name in tables:
            db.session.execute(text(f"DELETE FROM {name}"))
        # The full-text index is no model table; without this it kept the words of ideas long gone.
        db.session.execute(text(f"DELETE FROM {SQLITE_SEARCH_TABLE}"))
    db.session.commit()


def _row_counts():
    """Rows per table, in one statement."""
    names = [table.name for table in db.metadata.sorted_tables]
    row = db.session.execute(text("SELECT " + ", ".join(f"(SELECT count(*) FROM {name})" for name in names))).one()
    return dict(zip(names, row))


class SharedDemo:
    """The demo process, loaded through `flask demo load` once for all tests that only read it.

    Tests that use the `demo` fixture share one load (with the demo's analysis run, as in
    production): `_clean` does not empty the tables after them, and they run together at the
    end of the session (see `pytest_collection_modifyitems`). Any other test first empties the
    database if the demo is still there. A sharing test that changes the number of rows of a
    table fails, and the next one gets a fresh load.
    """

    def __init__(self, app):
        self.app = app
        self.loaded = False
        self.exit_code = None
        self.output = ""
        self.before = {}  # rows per table just before the load
        self.after = {}  # rows per table just after it
        self._added = {}  # demo step function -> rows it added per table

    def ensure_loaded(self):
        if self.loaded:
            return self
        from beteiligung import demo as demo_module

        steps = list(demo_module._steps)

        def counted(step):
            def run():
                before = _row_counts()
                step()
                after = _row_counts()
                self._added[step] = {name: after[name] - before[name] for name in after}
            return run

        demo_module._steps[:] = [(order, counted(step)) for order, step in steps]
        analysis = self.app.config.get("DEMO_ANALYSIS")
        self.app.config["DEMO_ANALYSIS"] = True
        try:
            with self.app.app_context():
                self.before = _row_counts()
            result = self.app.test_cli_runner().invoke(args=["demo", "load"])
            self.exit_code, self.output = result.exit_code, result.output
            assert result.exit_code == 0, result.output
            with self.app.app_context():
                self.after = _row_counts()
        except BaseException:  # nothing half-loaded for the next test
            with self.app.app_context():
                db.session.rollback()
                _empty_tables()
            raise
        finally:
            demo_module._steps[:] = steps
            self.app.config["DEMO_ANALYSIS"] = analysis
        self.loaded = True
        return self

    def added_by(self, step):
        """Rows per table that one demo step (given by its function) added."""
        return self._added[step]

    def forget(self):
        with self.app.app_context():
            db.session.rollback()
            _empty_tables()
        self.loaded = False


_shared_demo = None


@pytest.fixture(scope="session")
def demo(app):
    """The demo process in the database, for tests that only read it (see SharedDemo)."""
    global _shared_demo
    _shared_demo = SharedDemo(app)
    yield _shared_demo
    _shared_demo = None


def pytest_collection_modifyitems(items):
    """Tests that read the shared demo run last, one after the other, so it is loaded once."""
    def shares_demo(item):
        return "demo" in getattr(item, "fixturenames", ())

    items[:] = [item for item in items if not shares_demo(item)] + [item for item in items if shares_demo(item)]


@pytest.fixture(autouse=True)
def _clean(request, app):
    """Each test starts with empty tables and fresh rate-limit counters.

    Tests hold no application context of their own, so every request gets a fresh
    database session as in production; test code that reads the database opens
    `app.app_context()` (or uses the `ctx` fixture). Tests that use `demo` share one
    load of the demo process instead of empty tables (see SharedDemo).
    """
    shares_demo = "demo" in request.fixturenames
    with app.app_context():
        limiter.reset()
    if shares_demo:
        request.getfixturevalue("demo").ensure_loaded()
    elif _shared_demo is not None and _shared_demo.loaded:
        _shared_demo.forget()
    yield
    with app.app_context():
        db.session.rollback()
        if not shares_demo:
            _empty_tables()
            return
        changed = {name: f"{_shared_demo.after[name]} -> {n}" for name, n in _row_counts().items()
                   if n != _shared_demo.after[name]}
    if changed:
        _shared_demo.forget()
        pytest.fail(f"a test that shares the demo must only read it; rows changed: {changed}")


@pytest.fixture
def ctx(app):
    """An application context for tests that call services or query directly."""
    with app.app_context():
        yield


@pytest.fixture
def client(app):
    return app.test_client()


# --- factories -------------------------------------------------------------------

@dataclass(frozen=True)
class UserHandle:
    """What a test needs to know about a user it created; re-query for the ORM object."""
    id: int
    email: str
    password: str
    role: str
    display_name: str
    session_token: str


@pytest.fixture
def make_user(app):
    from beteiligung.auth.services import register_user

    counter = {"n": 0}

    def make(role="citizen", email=None, password=DEFAULT_PASSWORD, name=None):
        counter["n"] += 1
        email = email or f"person{counter['n']}-{role}@example.org"
        with app.app_context():
            user = register_user(email, name or f"Person {counter['n']}", password, role=role,
                                 check_strength=False)
            db.session.commit()
            return UserHandle(user.id, user.email, password, user.role, user.display_name,
                              user.session_token)

    return make


@pytest.fixture
def users(make_user):
    """One user per role, keyed by role name."""
    return {role: make_user(role=role, name=f"{role.title()} Muster") for role in ROLES if role != "anonymous"}


# --- request helpers --------------------------------------------------------------

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_token(client, path="/"):
    """The CSRF token of the client's session, read from a page."""
    response = client.get(path)
    match = CSRF_META.search(response.get_data(as_text=True))
    assert match, f"no csrf meta tag on {path}"
    return match.group(1)


def post_form(client, path, data=None, **kwargs):
    """POST a form the way a browser does, with the session's CSRF token and the bot trap of public
    forms as a person leaves it: `homepage` empty and a valid `form_started` (beteiligung/forms.py)."""
    from beteiligung.forms import form_started_token

    data = dict(data or {})
    data.setdefault("csrf_token", csrf_token(client))
    data.setdefault("homepage", "")
    if "form_started" not in data:
        with client.application.app_context():
            data["form_started"] = form_started_token()
    return client.post(path, data=data, **kwargs)


def login_as(client, user):
    """Log a client in without the form (fast); `user=None` leaves it anonymous."""
    if user is None:
        return client
    with client.session_transaction() as session:
        session["_user_id"] = user.session_token
        session["_fresh"] = True
    return client


@pytest.fixture
def login(client):
    """Log the default client in through the real login form."""

    def do(email, password=DEFAULT_PASSWORD, remember=False, follow=False):
        data = {"email": email, "password": password}
        if remember:
            data["remember"] = "y"
        return post_form(client, "/anmelden", data, follow_redirects=follow)

    return do


@pytest.fixture
def outbox(app):
    """The messages in the outbox, oldest first (detached, read-only)."""
    from beteiligung.mail.models import OutboxMessage

    def read():
        with app.app_context():
            return db.session.scalars(db.select(OutboxMessage).order_by(OutboxMessage.id)).all()

    return read


@pytest.fixture
def get_user(app):
    """The current state of a user, read fresh from the database (detached)."""
    from beteiligung.auth.models import User

    def read(user_id):
        with app.app_context():
            return db.session.get(User, user_id)

    return read


@pytest.fixture
def count_queries(app):
    """Count the SQL statements a block runs: `with count_queries() as counter: ...; counter.n`."""
    from contextlib import contextmanager

    @contextmanager
    def counting():
        counter = SimpleNamespace(n=0, statements=[])

        def before(conn, cursor, statement, parameters, context, executemany):
            counter.n += 1
            counter.statements.append(statement)

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counting


# --- ideas -------------------------------------------------------------------------

DISTRICTS = ["Jena-Zentrum", "Lobeda-Ost", "Winzerla", "Wenigenjena"]


@pytest.fixture
def idea_setup(app):
    """Fields of action, a few districts, and open collection and support phases."""
    from datetime import timedelta

    from beteiligung.ideas import services
    from beteiligung.ideas.models import District, Phase
    from beteiligung.models import utcnow

    with app.app_context():
        services.ensure_default_sectors()
        for position, name in enumerate(DISTRICTS, start=1):
            db.session.add(District(code=slug(name), name=name, position=position))
        now = utcnow()
        for kind in (Phase.COLLECTION, Phase.SUPPORT):
            db.session.add(Phase(kind=kind, starts_at=now - timedelta(days=10), ends_at=now + timedelta(days=10)))
        db.session.commit()
    return SimpleNamespace(districts=[slug(name) for name in DISTRICTS])


def slug(name):
    from beteiligung.ideas.demo import slugify

    return slugify(name)


@pytest.fixture
def set_phase(app):
    """Move a phase: set_phase("support", open=False) closes it (ended yesterday)."""
    from datetime import timedelta

    from beteiligung.ideas.models import Phase
    from beteiligung.models import utcnow

    def move(kind, open=True):
        with app.app_context():
            phase = db.session.scalar(db.select(Phase).where(Phase.kind == kind))
            now = utcnow()
            if open:
                phase.starts_at, phase.ends_at = now - timedelta(days=1), now + timedelta(days=1)
            else:
                phase.starts_at, phase.ends_at = now - timedelta(days=20), now - timedelta(days=1)
            db.session.commit()

    return move


@pytest.fixture
def make_idea(app, idea_setup, make_user):
    """Create an idea through the service; returns its id."""
    from beteiligung.auth.models import User
    from beteiligung.ideas import services

    def make(title="Radweg an der Saale durchgehend ausbauen", text="Zwischen Burgau und Zwätzen fehlen Stücke.",
             author=None, sector="mobilitaet", district="jena-zentrum", **kwargs):
        author = author or make_user()
        with app.test_request_context():
            idea = services.create_idea(
                db.session.get(User, author.id) if kwargs.get("source", "online") == "online" else None,
                title, text, sector=services.find_sector(sector) if sector else None,
                district=services.find_district(district), **kwargs)
            db.session.commit()
            return idea.id

    return make
