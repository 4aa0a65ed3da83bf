"""Load test: gunicorn workers on PostgreSQL, simulated citizens browsing, searching, supporting, commenting.

    python -m bench.load [--users 20] [--duration 30] [--workers 4] [--database-url URL] [--keep]

Creates a fresh PostgreSQL database (default `bench_load` on 127.0.0.1; the name must start
with "bench"), migrates it, loads the demo and creates one citizen account per simulated
user. Then it starts the production command `gunicorn --workers N 'beteiligung:create_app()'`
on a free loopback port, logs every user in through the login form and lets all users loop
for a fixed time without think time: the idea list with random filters and pages, a search,
an idea page, supporting or withdrawing, commenting; every form is sent back as rendered
(CSRF token and the other hidden fields), and each answer is read from the flash message
in the session cookie. It prints requests, errors, throughput and p50/p95/p99 per endpoint,
and the CPU time the gunicorn workers and the PostgreSQL backends spent per request (less
sensitive than req/s to other work on the machine).

Afterwards it checks in the database that the supports and comments are exactly those of the
successful requests (nothing lost, nothing doubled), that the cached counters of the ideas
agree, and that the same support or comment sent twice at the same moment is stored once.
Last, a bare Flask "hello" app (bench/hello_app.py) runs under the same gunicorn command with
the same users and time, and the platform's throughput is printed as a share of it.

Exit status 1 if a check fails or the server answered with errors. Nothing asserts on time.
"""
import argparse
import asyncio
import io
import os
import platform
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from contextlib import contextmanager, redirect_stderr
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import httpx

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_load"

# Rate limits and form checks a real visitor meets once in a while; the simulated users
# meet them hundreds of times a minute, so they are raised for the run (and printed).
SERVER_OVERRIDES = {
    "SESSION_COOKIE_SECURE": "0",  # plain HTTP on the loopback address
    "SCHEDULER_ENABLED": "0",  # as for production workers
    "LOGIN_RATE_LIMIT": "100000 per minute",
    "COMMENT_RATE_LIMIT": "100000 per hour",
    "IDEA_RATE_LIMIT": "100000 per hour",
    "FORM_MIN_FILL_SECONDS": "0",  # the simulated users fill forms faster than people
}

# What the simulated users do on a round (no think time between requests).
P_SEARCH = 0.3  # a search instead of the filtered list
P_SUPPORT = 0.5  # on an idea page: press the support button
P_WITHDRAW = 0.5  # ... and if the idea is supported already: withdraw the support
P_COMMENT = 0.25  # on an idea page: write a comment
P_REVISIT = 0.25  # a round starts on an idea the user supports (where the withdraw button is)
SEARCH_WORDS = ["Radweg", "Solar", "Bäume", "Bus", "Photovoltaik", "Wärmepumpe", "Fahrrad", "Parkplatz",
                "Schule", "Dach", "Straßenbahn", "Begrünung", "Energie", "Lobeda", "Tempo 30", "Carsharing",
                "Ladesäule", "Wärmenetz", "Saale", "Beleuchtung"]
SORTS = ["random", "newest", "supports", "comments"]
STATUSES = ["submitted", "in_review", "in_measure"]

# The flash messages that tell how a support or comment request ended (beteiligung/ideas/routes.py).
SUPPORT_OUTCOMES = {
    "Danke für Ihre Unterstützung!": "added",
    "Sie unterstützen diese Idee bereits.": "already",
    "Sie unterstützen diese Idee nicht mehr.": "removed",
    "Sie hatten diese Idee nicht unterstützt.": "absent",
}
COMMENT_OUTCOMES = {
    "Ihr Kommentar ist veröffentlicht.": "published",
    "Diesen Kommentar haben Sie gerade schon veröffentlicht.": "duplicate",
}
IDEA_LINK = re.compile(r'href="/ideen/(\d+)"')

LIST, SEARCH, IDEA = "GET /ideen/ (Liste, Filter)", "GET /ideen/?q= (Suche)", "GET /ideen/<id> (Idee)"
SUPPORT, COMMENT, LOGIN = "POST /ideen/<id>/unterstuetzen", "POST /ideen/<id>/kommentare", "POST /anmelden"
HELLO = "GET / (hello)"


# --- statistics ---------------------------------------------------------------------------

def percentile(sorted_values, share):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * share // 1))
    return sorted_values[int(rank) - 1]


class Stats:
    """Latencies and failures per endpoint; `recording` off during the warm-up."""

    def __init__(self):
        self.latencies_ms = defaultdict(list)
        self.failures = defaultdict(Counter)  # endpoint -> {"500": n, "ReadTimeout": n}
        self.recording = True

    def add(self, endpoint, milliseconds, failure=None):
        if not self.recording:
            return
        self.latencies_ms[endpoint].append(milliseconds)
        if failure:
            self.failures[endpoint][failure] += 1

    def total(self, endpoints=None):
        return sum(len(values) for name, values in self.latencies_ms.items() if endpoints is None or name in endpoints)

    def failure_count(self):
        return sum(sum(counter.values()) for counter in self.failures.values())

    def print_table(self, seconds, order):
        print(f"   {'Endpunkt':34} {'Anfragen':>9} {'Fehler':>7} {'req/s':>8} "
              f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
        names = [name for name in order if name in self.latencies_ms]
        names += sorted(set(self.latencies_ms) - set(names))
        for name in names:
            values = sorted(self.latencies_ms[name])
            failures = sum(self.failures[name].values())
            print(f"   {name:34} {len(values):9d} {failures:7d} {len(values) / seconds:8.1f} "
                  f"{percentile(values, 0.50):8.1f} {percentile(values, 0.95):8.1f} {percentile(values, 0.99):8.1f}")
            if failures:
                kinds = ", ".join(f"{kind}: {count}" for kind, count in self.failures[name].most_common())
                print(f"   {'':34}   davon {kinds}")
        every = sorted(value for name in names for value in self.latencies_ms[name])
        print(f"   {'gesamt':34} {len(every):9d} {self.failure_count():7d} {len(every) / seconds:8.1f} "
              f"{percentile(every, 0.50):8.1f} {percentile(every, 0.95):8.1f} {percentile(every, 0.99):8.1f}")


# --- forms and flashes ----------------------------------------------------------------------

class _FormFields(HTMLParser):
    """The fields of the first form in a piece of HTML, with their values as rendered."""

    def __init__(self):
        super().__init__()
        self.fields, self.inside, self.done = {}, False, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and not self.done:
            self.inside = True
        elif self.inside and tag in ("input", "textarea", "select") and attrs.get("name"):
            if attrs.get("type") in ("submit", "button", "checkbox", "radio", "file"):
                return  # unchecked boxes are not sent; buttons carry no data here
            self.fields.setdefault(attrs["name"], attrs.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "form" and self.inside:
            self.inside, self.done = False, True


def form_fields(html, marker):
    """The fields of the form around `marker` as a browser would send them unchanged.

    Hidden fields (csrf_token, form_started, action, next) keep their rendered values and
    a honeypot text field stays empty; the caller fills in what a person would type.
    """
    at = html.find(marker)
    if at < 0:
        return None
    start = html.rfind("<form", 0, at)
    end = html.find("</form>", at)
    if start < 0 or end < 0:
        return None
    parser = _FormFields()
    parser.feed(html[start:end + len("</form>")])
    parser.close()
    return parser.fields


class FlashReader:
    """Reads the flash messages out of a response's session cookie (signed with our key)."""

    def __init__(self, secret_key):
        from flask import Flask
        from flask.sessions import SecureCookieSessionInterface

        app = Flask("bench-load")
        app.secret_key = secret_key
        self.serializer = SecureCookieSessionInterface().get_signing_serializer(app)

    def last(self, response):
        """(category, message) of the newest flash the response set, or None."""
        value = response.cookies.get("session")
        if not value:
            return None
        flashes = self.serializer.loads(value).get("_flashes") or []
        return tuple(flashes[-1]) if flashes else None


def classify(flash, outcomes):
    if flash is None:
        return "no-flash"
    category, message = flash
    if message in outcomes:
        return outcomes[message]
    return "refused" if category == "error" else "unknown"


# --- simulated users --------------------------------------------------------------------------

@dataclass
class SimUser:
    number: int
    user_id: int
    email: str
    password: str
    rng: random.Random
    client: httpx.AsyncClient | None = None
    supported: set = field(default_factory=set)  # ideas this user supports, as the answers said
    uncertain: set = field(default_factory=set)  # ideas where an answer was lost (error): not checked
    comments: int = 0


@dataclass
class Ledger:
    """What the successful requests say the database must contain."""
    support_outcomes: Counter = field(default_factory=Counter)
    comment_outcomes: Counter = field(default_factory=Counter)
    support_delta: Counter = field(default_factory=Counter)  # idea -> added minus removed
    published: Counter = field(default_factory=Counter)  # (idea, user, text) -> successful posts
    uncertain_ideas: set = field(default_factory=set)
    anomalies: list = field(default_factory=list)

    def anomaly(self, text):
        if len(self.anomalies) < 1000:
            self.anomalies.append(text)


class Load:
    """The simulated users against one running server."""

    def __init__(self, base_url, stats, ledger, flashes, sectors, districts, run_tag):
        self.base_url, self.stats, self.ledger, self.flashes = base_url, stats, ledger, flashes
        self.sectors, self.districts, self.run_tag = sectors, districts, run_tag

    def client(self):
        return httpx.AsyncClient(base_url=self.base_url, timeout=120, follow_redirects=False,
                                 limits=httpx.Limits(max_connections=4, max_keepalive_connections=0))

    async def call(self, user, method, url, endpoint, expect, **kwargs):
        started = time.perf_counter()
        try:
            response = await user.client.request(method, url, **kwargs)
        except httpx.HTTPError as error:
            self.stats.add(endpoint, (time.perf_counter() - started) * 1000, type(error).__name__)
            return None
        failure = None if response.status_code in expect else str(response.status_code)
        self.stats.add(endpoint, (time.perf_counter() - started) * 1000, failure)
        return response if failure is None else None

    async def login(self, user):
        user.client = self.client()
        page = await self.call(user, "GET", "/anmelden", "GET /anmelden", {200})
        fields = form_fields(page.text, 'name="password"') if page is not None else None
        if fields is None:
            return False
        fields.update(email=user.email, password=user.password)
        response = await self.call(user, "POST", "/anmelden", LOGIN, {302}, data=fields)
        return response is not None and self.flashes.last(response) == ("success", "Sie sind angemeldet.")

    async def follow(self, user, response):
        """The browser follows the redirect after a form; the page shows (and clears) the flash."""
        location = response.headers.get("location", "").split("#")[0]
        if location:
            return await self.call(user, "GET", location, IDEA, {200})
        return None

    # -- the round of a citizen ------------------------------------------------------------

    def list_params(self, rng):
        params = {"sort": rng.choice(SORTS)}
        if rng.random() < 0.4:
            params["sector"] = rng.choice(self.sectors)
        if rng.random() < 0.3:
            params["district"] = rng.choice(self.districts)
        if rng.random() < 0.2:
            params["status"] = rng.choice(STATUSES)
        if rng.random() < 0.5:
            params["page"] = rng.randint(2, 6)
        return params

    async def round(self, user, end, writes=True):
        rng = user.rng
        if user.supported and rng.random() < P_REVISIT:
            return await self.visit(user, rng.choice(sorted(user.supported)), end, writes)
        if rng.random() < P_SEARCH:
            params = {"q": rng.choice(SEARCH_WORDS)}
            if rng.random() < 0.5:
                params["sort"] = "relevance"
            page = await self.call(user, "GET", "/ideen/", SEARCH, {200}, params=params)
        else:
            page = await self.call(user, "GET", "/ideen/", LIST, {200}, params=self.list_params(rng))
        ids = IDEA_LINK.findall(page.text) if page is not None else []
        if not ids or time.perf_counter() >= end:
            return
        await self.visit(user, int(rng.choice(ids)), end, writes)

    async def visit(self, user, idea_id, end, writes):
        """The idea page; then perhaps the support button and a comment."""
        rng = user.rng
        page = await self.call(user, "GET", f"/ideen/{idea_id}", IDEA, {200})
        if page is None or not writes or time.perf_counter() >= end:
            return
        if rng.random() < P_SUPPORT:
            page = await self.support(user, idea_id, page) or page
        if rng.random() < P_COMMENT and time.perf_counter() < end:
            await self.comment(user, idea_id, page)

    async def support(self, user, idea_id, page):
        fields = form_fields(page.text, f'action="/ideen/{idea_id}/unterstuetzen"')
        if fields is None:
            return None  # hidden, merged or phase closed: no button
        shown = fields.get("action") == "withdraw"
        if shown != (idea_id in user.supported) and idea_id not in user.uncertain:
            self.ledger.anomaly(f"Idee {idea_id}, Nutzer {user.number}: Seite zeigt "
                                f"{'unterstützt' if shown else 'nicht unterstützt'}, die Antworten sagten anderes")
        if shown and user.rng.random() >= P_WITHDRAW:
            return None
        response = await self.call(user, "POST", f"/ideen/{idea_id}/unterstuetzen", SUPPORT, {302}, data=fields)
        self.settle_support(user, idea_id, self.outcome(response, SUPPORT_OUTCOMES))
        return await self.follow(user, response) if response is not None else None

    def outcome(self, response, outcomes):
        """How a form request ended, from its flash message; "error" if it failed."""
        return classify(self.flashes.last(response), outcomes) if response is not None else "error"

    def settle_support(self, user, idea_id, outcome):
        self.ledger.support_outcomes[outcome] += 1
        had = idea_id in user.supported
        expected_before = {"added": False, "already": True, "removed": True, "absent": False}
        if outcome in expected_before:
            if had != expected_before[outcome] and idea_id not in user.uncertain:
                self.ledger.anomaly(f"Idee {idea_id}, Nutzer {user.number}: Antwort „{outcome}“, "
                                    f"obwohl {'unterstützt' if had else 'nicht unterstützt'}")
            if outcome in ("added", "already"):
                user.supported.add(idea_id)
            else:
                user.supported.discard(idea_id)
            self.ledger.support_delta[idea_id] += {"added": 1, "removed": -1}.get(outcome, 0)
        elif outcome != "refused":  # error, no-flash, unknown: the request may or may not have counted
            user.uncertain.add(idea_id)
            self.ledger.uncertain_ideas.add(idea_id)
        return outcome

    def comment_text(self, user):
        user.comments += 1
        return (f"Lasttest {self.run_tag}: Nutzer {user.number}, Kommentar {user.comments}. "
                f"Das würde ich im Alltag sofort nutzen.")

    async def comment(self, user, idea_id, page, text=None):
        fields = form_fields(page.text, 'id="kommentar-text"')
        if fields is None:
            return None
        fields["text"] = text or self.comment_text(user)
        response = await self.call(user, "POST", f"/ideen/{idea_id}/kommentare", COMMENT, {302}, data=fields)
        self.settle_comment(user, idea_id, fields["text"], self.outcome(response, COMMENT_OUTCOMES))
        if response is not None:
            await self.follow(user, response)
        return response

    def settle_comment(self, user, idea_id, text, outcome):
        self.ledger.comment_outcomes[outcome] += 1
        if outcome == "published":
            self.ledger.published[(idea_id, user.user_id, text)] += 1
        elif outcome not in ("duplicate", "refused"):
            self.ledger.uncertain_ideas.add(idea_id)
        return outcome

    async def loop(self, user, seconds, writes=True):
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            await self.round(user, end, writes)

    # -- the same form sent twice at the same moment -------------------------------------------

    async def double_support(self, user, idea_id):
        page = await self.call(user, "GET", f"/ideen/{idea_id}", IDEA, {200})
        fields = form_fields(page.text, f'action="/ideen/{idea_id}/unterstuetzen"') if page else None
        if fields is None or fields.get("action") == "withdraw":
            return None
        url = f"/ideen/{idea_id}/unterstuetzen"
        responses = await asyncio.gather(*(self.call(user, "POST", url, SUPPORT, {302}, data=fields) for _ in range(2)))
        # Settled in the order the database saw them: the added support before the "already".
        outcomes = sorted(self.outcome(response, SUPPORT_OUTCOMES) for response in responses)
        for outcome in outcomes:
            self.settle_support(user, idea_id, outcome)
        await self.call(user, "GET", f"/ideen/{idea_id}", IDEA, {200})  # shows and clears the flashes
        return outcomes

    async def double_comment(self, user, idea_id):
        page = await self.call(user, "GET", f"/ideen/{idea_id}", IDEA, {200})
        fields = form_fields(page.text, 'id="kommentar-text"') if page else None
        if fields is None:
            return None
        fields["text"] = self.comment_text(user) + " (doppelt abgeschickt)"
        url = f"/ideen/{idea_id}/kommentare"
        responses = await asyncio.gather(*(self.call(user, "POST", url, COMMENT, {302}, data=fields) for _ in range(2)))
        outcomes = sorted(self.outcome(response, COMMENT_OUTCOMES) for response in responses)
        for outcome in outcomes:
            self.settle_comment(user, idea_id, fields["text"], outcome)
        await self.call(user, "GET", f"/ideen/{idea_id}", IDEA, {200})
        return outcomes


# --- servers and the database -------------------------------------------------------------------

def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gunicorn_command():
    script = Path(sys.executable).parent / "gunicorn"
    return [str(script)] if script.exists() else [sys.executable, "-m", "gunicorn"]


@dataclass
class Server:
    base_url: str
    pid: int  # the gunicorn master; its children are the workers

    def worker_pids(self):
        return child_pids(self.pid)


def _proc_stat(pid):
    """The fields of /proc/PID/stat after the command name (state, ppid, ...), or None."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def child_pids(parent):
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _proc_stat(entry.name)
            if fields and int(fields[1]) == parent:
                pids.append(int(entry.name))
    return pids


def cpu_seconds(pids):
    """{pid: user + system CPU seconds so far} (Linux /proc; empty elsewhere)."""
    tick = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for pid in pids:
        fields = _proc_stat(pid)
        if fields:
            seconds[pid] = (int(fields[11]) + int(fields[12])) / tick
    return seconds


def cpu_used(before, after):
    return sum(value - before.get(pid, 0.0) for pid, value in after.items())


@contextmanager
def gunicorn(app_spec, workers, threads, env, log_path):
    """`gunicorn --workers N --bind 127.0.0.1:PORT APP` as in the README; yields a Server."""
    port = free_port()
    command = gunicorn_command() + ["--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                                    "--log-level", "warning", "--error-logfile", str(log_path),
                                    "--no-control-socket"]  # gunicorn 27 would share ~/.gunicorn/gunicorn.ctl
    if threads > 1:
        command += ["--threads", str(threads)]
    process = subprocess.Popen(command + [app_spec], cwd=PROJECT_ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                raise SystemExit(f"gunicorn endete beim Start (Status {process.returncode}); siehe {log_path}:\n"
                                 + Path(log_path).read_text()[-3000:])
            try:
                if httpx.get(base_url + "/", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"gunicorn antwortet nach 90 s nicht; siehe {log_path}")
            time.sleep(0.3)
        yield Server(base_url, process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def server_log_summary(log_path):
    """Tracebacks and worker timeouts in the gunicorn error log; returns the number of problems."""
    text = Path(log_path).read_text(errors="replace") if Path(log_path).exists() else ""
    tracebacks = text.count("Traceback (most recent call last)")
    timeouts = text.count("WORKER TIMEOUT")
    print(f"   Server-Log: {tracebacks} Tracebacks, {timeouts} Worker-Timeouts")
    if tracebacks:
        first = text[text.index("Traceback (most recent call last)"):].splitlines()
        tail = next((i for i, line in enumerate(first[1:], 1) if line and not line.startswith(" ")), len(first) - 1)
        print("   erster Traceback (gekürzt):")
        for line in first[max(0, tail - 8):tail + 1]:
            print(f"     {line}")
    return tracebacks + timeouts


def recreate_database(url):
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = parsed.database or ""
    if not re.fullmatch(r"bench\w*", name):
        raise SystemExit(f"Die Datenbank für den Lasttest muss mit „bench“ beginnen (nicht „{name}“); "
                         "sie wird gelöscht und neu angelegt.")
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def drop_database(url):
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    finally:
        admin.dispose()


def seed(users):
    """Migrate, load the demo and create the simulated users' accounts (with the real scrypt hash)."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from beteiligung import create_app
    from beteiligung.auth.services import register_user
    from beteiligung.demo import load_demo
    from beteiligung.extensions import db
    from beteiligung.ideas.models import District, Idea, Phase, Sector

    app = create_app()
    app.config["DEMO_ANALYSIS"] = False  # the staff analysis run is not what citizens load
    with app.app_context():
        log = io.StringIO()
        try:
            with redirect_stderr(log):  # alembic's INFO lines; shown only if the migration fails
                upgrade()
        except BaseException:
            sys.stderr.write(log.getvalue())
            raise
        if not load_demo():
            raise SystemExit("Die Datenbank war nicht leer.")
        accounts = []
        for number in range(1, users + 1):
            email, password = f"last{number:03d}@bench.example.org", f"Lasttest-Birke-{number:03d}-Zugang"
            accounts.append((register_user(email, f"Lasttest {number}", password, check_strength=False), password))
        db.session.commit()
        support = db.session.scalar(select(Phase).where(Phase.kind == Phase.SUPPORT))
        if support is None or not support.is_open():
            raise SystemExit("Die Unterstützungsphase des Demo-Prozesses ist nicht offen.")
        facts = {
            "sectors": list(db.session.scalars(select(Sector.code).where(Sector.active))),
            "districts": list(db.session.scalars(select(District.code).where(District.active))),
            "supportable": list(db.session.scalars(select(Idea.id).where(Idea.hidden_at.is_(None),
                                                                         Idea.status != "merged"))),
            "accounts": [(user.id, user.email, password) for user, password in accounts],
        }
        db.session.remove()
        db.engine.dispose()
    return facts


def snapshot(connection):
    from sqlalchemy import text

    return {row.id: (row.support_count, row.comment_count)
            for row in connection.execute(text("SELECT id, support_count, comment_count FROM ideas"))}


def pg_counters(connection, name):
    from sqlalchemy import text

    row = connection.execute(text("SELECT deadlocks, xact_commit FROM pg_stat_database "
                                  "WHERE datname = :name"), {"name": name}).one()
    return row.deadlocks, row.xact_commit


def backend_pids(connection):
    """The PostgreSQL server processes serving the workers (the database runs on this machine)."""
    from sqlalchemy import text

    return list(connection.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                        "AND pid <> pg_backend_pid()")).scalars())


# --- the consistency check ------------------------------------------------------------------------

def check(connection, sim_users, ledger, before):
    """Compare the database with what the successful requests said; prints and returns ok."""
    from sqlalchemy import text

    ok = True

    def verdict(good, label, detail=""):
        nonlocal ok
        ok = ok and good
        print(f"   {'ok    ' if good else 'FEHLER'} {label}{(': ' + detail) if detail else ''}")

    ids = [user.user_id for user in sim_users]
    actual = set(connection.execute(text("SELECT user_id, idea_id FROM supports WHERE user_id = ANY(:ids)"),
                                    {"ids": ids}).all())
    expected = {(user.user_id, idea) for user in sim_users for idea in user.supported}
    uncertain = {(user.user_id, idea) for user in sim_users for idea in user.uncertain}
    missing, extra = expected - actual - uncertain, actual - expected - uncertain
    outcomes = ledger.support_outcomes
    verdict(not missing and not extra,
            "Unterstützungen der Lastnutzer = erfolgreiche Anfragen",
            f"{outcomes['added']} hinzugefügt, {outcomes['removed']} zurückgezogen, {outcomes['already']} „bereits“, "
            f"{outcomes['absent']} „nicht unterstützt“ → erwartet {len(expected)} Zeilen, gefunden {len(actual)}"
            f" (fehlen {len(missing)}, zu viel {len(extra)}, ungeklärt {len(uncertain)})")
    doubled = connection.execute(text("SELECT count(*) FROM (SELECT 1 FROM supports GROUP BY idea_id, user_id "
                                      "HAVING count(*) > 1) AS d")).scalar()
    verdict(doubled == 0, "keine Unterstützung doppelt (Idee, Person)", f"{doubled} doppelt")
    wrong = connection.execute(text(
        "SELECT count(*) FROM ideas i WHERE support_count <> (SELECT count(*) FROM supports s WHERE s.idea_id = i.id)"
    )).scalar()
    verdict(wrong == 0, "Zähler support_count = Zeilen in supports, je Idee", f"{wrong} Ideen weichen ab")
    after = snapshot(connection)
    moved = [idea for idea, (supports, _comments) in after.items()
             if idea not in ledger.uncertain_ideas and supports - before[idea][0] != ledger.support_delta[idea]]
    verdict(not moved, "Zuwachs von support_count = hinzugefügt − zurückgezogen, je Idee",
            f"{len(moved)} Ideen weichen ab{' (z. B. ' + ', '.join(map(str, moved[:5])) + ')' if moved else ''}")

    rows = Counter(tuple(row) for row in connection.execute(text(
        "SELECT idea_id, author_id, text FROM comments WHERE author_id = ANY(:ids)"), {"ids": ids}).all())
    lost, surplus = ledger.published - rows, rows - ledger.published
    comments = ledger.comment_outcomes
    uncertain_comments = sum(count for key, count in surplus.items() if key[0] in ledger.uncertain_ideas)
    verdict(not lost and sum(surplus.values()) == uncertain_comments,
            "Kommentare der Lastnutzer = erfolgreiche Anfragen",
            f"{comments['published']} veröffentlicht, {comments['duplicate']} als Doppel erkannt → in der Datenbank "
            f"{sum(rows.values())} (fehlen {sum(lost.values())}, zu viel {sum(surplus.values())})")
    twice = sum(1 for count in rows.values() if count > 1)  # every request had its own text
    verdict(twice == 0, "kein Kommentar doppelt gespeichert", f"{twice} Texte mehrfach")
    wrong = connection.execute(text(
        "SELECT count(*) FROM ideas i WHERE comment_count <> "
        "(SELECT count(*) FROM comments c WHERE c.idea_id = i.id AND c.hidden_at IS NULL)")).scalar()
    verdict(wrong == 0, "Zähler comment_count = sichtbare Kommentare, je Idee", f"{wrong} Ideen weichen ab")
    per_idea = Counter()
    for (idea, _user, _text), count in ledger.published.items():
        per_idea[idea] += count
    moved = [idea for idea, (_supports, count) in after.items()
             if idea not in ledger.uncertain_ideas and count - before[idea][1] != per_idea[idea]]
    verdict(not moved, "Zuwachs von comment_count = veröffentlichte Kommentare, je Idee",
            f"{len(moved)} Ideen weichen ab")
    verdict(not ledger.anomalies, "jede Antwort passte zum Zustand, den die Seite zeigte",
            f"{len(ledger.anomalies)} Abweichungen" + (f", z. B. {ledger.anomalies[0]}" if ledger.anomalies else ""))
    return ok


# --- running it -----------------------------------------------------------------------------------

@dataclass
class Window:
    """The measured time and the CPU seconds spent in it by the client and the server processes."""
    seconds: float
    client_cpu: float
    server_cpu: dict  # "gunicorn" / "PostgreSQL" -> CPU seconds

    def print_cpu(self, requests):
        parts = [f"Last-Client {self.client_cpu / self.seconds * 100:.0f} % eines Kerns"]
        per_request = 0.0
        for name, used in self.server_cpu.items():
            milliseconds = used * 1000 / max(requests, 1)
            per_request += milliseconds
            parts.append(f"{name} {used / self.seconds * 100:.0f} % eines Kerns = {milliseconds:.1f} ms CPU je Anfrage")
        print("   CPU: " + "; ".join(parts))
        return per_request


async def run_load(load, sim_users, warmup, duration, processes, writes=True):
    """Warm-up (not recorded, reads only), then everyone loops for `duration`.

    `processes` maps a name to a function returning the pids whose CPU time is counted.
    """
    load.stats.recording = False
    await asyncio.gather(*(load.loop(user, warmup, writes=False) for user in sim_users))
    load.stats.recording = True
    pids = {name: find() for name, find in processes.items()}
    before = {name: cpu_seconds(found) for name, found in pids.items()}
    cpu, started = time.process_time(), time.perf_counter()
    await asyncio.gather(*(load.loop(user, duration, writes) for user in sim_users))
    seconds = time.perf_counter() - started
    client_cpu = time.process_time() - cpu
    after = {name: cpu_seconds(set(found) | set(processes[name]())) for name, found in pids.items()}
    return Window(seconds, client_cpu, {name: cpu_used(before[name], after[name]) for name in processes})


async def platform_run(args, server, facts, secret_key, ledger, connection):
    stats = Stats()
    load = Load(server.base_url, stats, ledger, FlashReader(secret_key), facts["sectors"], facts["districts"],
                run_tag=secrets.token_hex(3))
    sim_users = [SimUser(number, user_id, email, password, random.Random(args.seed * 1000 + number))
                 for number, (user_id, email, password) in enumerate(facts["accounts"], start=1)]
    started = time.perf_counter()
    logged_in = await asyncio.gather(*(load.login(user) for user in sim_users))
    login_seconds = time.perf_counter() - started
    logins = sorted(stats.latencies_ms[LOGIN])
    print(f"   Anmeldung über das Formular: {sum(logged_in)}/{len(sim_users)} in {login_seconds:.1f} s "
          f"(POST /anmelden p50 {percentile(logins, 0.5):.0f} ms, max {logins[-1]:.0f} ms; scrypt)")
    if not all(logged_in):
        raise SystemExit("Nicht alle simulierten Nutzer konnten sich anmelden.")
    stats.latencies_ms.clear()
    stats.failures.clear()

    db_name = connection.engine.url.database
    pg_before = pg_counters(connection, db_name)
    window = await run_load(load, sim_users, args.warmup, args.duration,
                            {"gunicorn": server.worker_pids, "PostgreSQL": lambda: backend_pids(connection)})
    pg_after = pg_counters(connection, db_name)
    print(f"\n== Plattform: {len(sim_users)} Nutzer, {window.seconds:.1f} s gemessen "
          f"nach {args.warmup:g} s Aufwärmen (nur lesend)")
    stats.print_table(window.seconds, [LIST, SEARCH, IDEA, SUPPORT, COMMENT])
    window.print_cpu(stats.total())
    print(f"   PostgreSQL: {pg_after[0] - pg_before[0]} Deadlocks, {pg_after[1] - pg_before[1]} Commits")
    so = ledger.support_outcomes
    co = ledger.comment_outcomes
    print(f"   Antworten: Unterstützen {dict(so)}; Kommentieren {dict(co)}")

    # The same form sent twice at once, as by a double click (counted apart from the measurement).
    load.stats = double_stats = Stats()
    pairs_support, pairs_comment = [], []
    candidates = [idea for idea in facts["supportable"]]
    random.Random(args.seed).shuffle(candidates)
    for pair in range(args.pairs):
        user = sim_users[pair % len(sim_users)]
        idea = next(idea for idea in candidates if idea not in user.supported and idea not in user.uncertain)
        candidates.remove(idea)
        pairs_support.append(await load.double_support(user, idea))
        pairs_comment.append(await load.double_comment(user, idea))
    once = sum(1 for outcome in pairs_support if outcome == ["added", "already"])
    print(f"\n== Doppelt abgeschickt (zwei gleiche Anfragen zugleich, {args.pairs} Paare je Formular)")
    print(f"   Unterstützen: {once}/{args.pairs} Paare ergaben genau eine Unterstützung "
          f"(Antworten: {Counter(tuple(o) for o in pairs_support if o)})")
    single = sum(1 for outcome in pairs_comment if outcome == ["duplicate", "published"])
    print(f"   Kommentieren: {single}/{args.pairs} Paare ergaben genau einen Kommentar "
          f"(Antworten: {Counter(tuple(o) for o in pairs_comment if o)})")
    for user in sim_users:
        await user.client.aclose()
    if double_stats.failure_count():
        print(f"   Fehler dabei: {dict((name, dict(kinds)) for name, kinds in double_stats.failures.items())}")
    doubles_ok = once == args.pairs and single == args.pairs and not double_stats.failure_count()
    return stats, window, sim_users, doubles_ok


async def hello_run(args, server):
    stats = Stats()

    class Hello(Load):
        async def round(self, user, end, writes=True):
            await self.call(user, "GET", "/", HELLO, {200})

    load = Hello(server.base_url, stats, Ledger(), None, [], [], "")
    sim_users = [SimUser(number, 0, "", "", random.Random(number)) for number in range(1, args.users + 1)]
    for user in sim_users:
        user.client = load.client()
    window = await run_load(load, sim_users, args.warmup, args.duration, {"gunicorn": server.worker_pids})
    for user in sim_users:
        await user.client.aclose()
    return stats, window


def machine_facts(args):
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    worker = f"gthread mit {args.threads} Threads" if args.threads > 1 else "sync"
    print(f"   Rechner: {cores} Kerne ({os.cpu_count()} im System), {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}")
    print(f"   Systemlast (load average 1/5/15 min) vorher: {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"   gunicorn: {args.workers} Worker ({worker}); Nutzer: {args.users}; Dauer: {args.duration:g} s; "
          f"Aufwärmen: {args.warmup:g} s; Client: httpx/asyncio im selben Rechner")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20, help="simulierte Nutzer (gleichzeitig)")
    parser.add_argument("--duration", type=float, default=30, help="Messdauer in Sekunden, je Server")
    parser.add_argument("--warmup", type=float, default=5, help="Aufwärmen in Sekunden (nur lesen, nicht gezählt)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn-Worker")
    parser.add_argument("--threads", type=int, default=1, help="Threads je Worker (>1: gthread)")
    parser.add_argument("--pairs", type=int, default=5, help="doppelt abgeschickte Formulare je Art")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_LOAD_DATABASE_URL", DEFAULT_DATABASE_URL),
                        help="PostgreSQL-Datenbank, die neu angelegt wird (Name beginnt mit „bench“)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=WERT",
                        help="weitere Umgebungsvariable für die Worker (mehrfach), z. B. SIMILAR_REBUILD_SECONDS=600")
    parser.add_argument("--keep", action="store_true", help="die Datenbank danach nicht löschen")
    parser.add_argument("--no-hello", action="store_true", help="die Hello-Vergleichsmessung auslassen")
    args = parser.parse_args(argv)

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from beteiligung.config import normalise_database_url

    args.database_url = normalise_database_url(args.database_url)
    overrides = dict(SERVER_OVERRIDES)
    for setting in args.set:
        name, equals, value = setting.partition("=")
        if not equals:
            parser.error(f"--set erwartet NAME=WERT, nicht {setting!r}")
        overrides[name] = value
    secret_key = secrets.token_hex(32)
    instance = tempfile.TemporaryDirectory(prefix="bench-load-")
    env = dict(os.environ, DATABASE_URL=args.database_url, SECRET_KEY=secret_key, INSTANCE_PATH=instance.name,
               **overrides)
    os.environ.update(DATABASE_URL=args.database_url, SECRET_KEY=secret_key)
    print("== Lasttest: gunicorn + PostgreSQL auf 127.0.0.1")
    machine_facts(args)
    print(f"   Datenbank: {make_url(args.database_url).render_as_string(hide_password=True)} (neu angelegt)")
    print("   Umgebung der Worker: " + ", ".join(f"{key}={value!r}" for key, value in overrides.items()))

    started = time.perf_counter()
    recreate_database(args.database_url)
    facts = seed(args.users)
    print(f"   Demo geladen, {args.users} Konten angelegt: {time.perf_counter() - started:.1f} s; "
          f"{len(facts['supportable'])} unterstützbare Ideen")

    engine = create_engine(args.database_url)
    ok = True
    try:
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT")
            print(f"   PostgreSQL {connection.exec_driver_sql('SHOW server_version').scalar()}, "
                  f"max_connections {connection.exec_driver_sql('SHOW max_connections').scalar()}")
            before = snapshot(connection)
            ledger = Ledger()
            log_path = Path(instance.name) / "gunicorn-platform.log"
            with gunicorn("beteiligung:create_app()", args.workers, args.threads, env, log_path) as server:
                stats, window, sim_users, doubles_ok = asyncio.run(
                    platform_run(args, server, facts, secret_key, ledger, connection))
            problems = server_log_summary(log_path)
            print("\n== Prüfung in der Datenbank: nichts verloren, nichts doppelt")
            consistent = check(connection, sim_users, ledger, before)
            ok = consistent and doubles_ok and problems == 0 and stats.failure_count() == 0
    finally:
        engine.dispose()
        if not args.keep:
            drop_database(args.database_url)

    if not args.no_hello:
        log_path = Path(instance.name) / "gunicorn-hello.log"
        with gunicorn("bench.hello_app:create_app()", args.workers, args.threads, env, log_path) as server:
            hello, hello_window = asyncio.run(hello_run(args, server))
        print(f"\n== Vergleich: Flask-„hello“ unter demselben gunicorn-Befehl, {args.users} Nutzer, "
              f"{hello_window.seconds:.1f} s")
        hello.print_table(hello_window.seconds, [HELLO])
        hello_ms = hello_window.print_cpu(hello.total())
        server_log_summary(log_path)
        ours, base = stats.total() / window.seconds, hello.total() / hello_window.seconds
        pages = stats.total([LIST, SEARCH, IDEA]) / window.seconds
        print(f"   Durchsatz: Plattform {ours:.1f} req/s = {100 * ours / base:.1f} % von hello ({base:.0f} req/s); "
              f"davon Seitenaufrufe (GET) {pages:.1f} req/s")
        ours_ms = sum(window.server_cpu.values()) * 1000 / max(stats.total(), 1)
        if ours_ms and hello_ms:
            print(f"   Server-CPU je Anfrage: Plattform {ours_ms:.1f} ms (gunicorn + PostgreSQL), "
                  f"hello {hello_ms:.1f} ms "
                  f"→ {100 * hello_ms / ours_ms:.1f} % (hängt weniger als req/s von anderer Last auf dem Rechner ab)")

    print(f"\n   Systemlast (load average 1/5/15 min) nachher: {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"== Ergebnis: {'bestanden' if ok else 'NICHT bestanden'} "
          f"({time.perf_counter() - started:.0f} s insgesamt{', Datenbank behalten' if args.keep else ''})")
    instance.cleanup()
    return 0 if ok else 1


def run():
    """Entry for `python -m bench load`."""
    status = main([])
    if status:
        raise SystemExit(status)


if __name__ == "__main__":
    sys.exit(main())
