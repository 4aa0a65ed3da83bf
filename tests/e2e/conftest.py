"""Browser tests: the platform as `make run` starts it, driven by Debian's Chromium.

The server is `run.py` in a subprocess (migrations, demo load, threaded server) on its own
database: a temporary SQLite file, or `<TEST_DATABASE_URL's database>_e2e` on PostgreSQL. The
browser is Playwright for Python with the Chromium found on the machine; Playwright never
downloads one. axe-core comes from `node_modules/` (`npm ci`).

Without Chromium, Playwright or axe-core the tests are skipped, and the summary says why and
how to install them. With `E2E_REQUIRED=1` (set by `.ci/run`) they fail instead.

Screenshots and the page's HTML of every failing browser test go to the output folder that
the run prints (`test-output/e2e-<database>/`).
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.conftest import TEST_DATABASE_URL, is_postgres

PROJECT = Path(__file__).resolve().parents[2]
AXE_PATH = PROJECT / "node_modules" / "axe-core" / "axe.min.js"
REQUIRED = os.environ.get("E2E_REQUIRED", "").strip().lower() in {"1", "true", "yes", "ja"}
OUTPUT = PROJECT / "test-output" / ("e2e-postgresql" if is_postgres() else "e2e-sqlite")
HERE = Path(__file__).resolve().parent

# The demo logins (beteiligung/demo.py), one per role.
LOGINS = {
    "citizen": ("buergerin@beteiligung.example.org", "Ahorn-Sonne-Balkon"),
    "member": ("arbeitskreis@beteiligung.example.org", "Linde-Windrad-Sitzung"),
    "staff": ("verwaltung@beteiligung.example.org", "Saale-Fahrrad-Sichtung"),
    "admin": ("admin@beteiligung.example.org", "Klimaplan-Birke-Admin"),
}


def find_chromium():
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def missing_tools():
    """What the browser tests lack on this machine, as German hints; empty when all is there."""
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("Playwright für Python (make test installiert requirements-dev.txt)")
    if find_chromium() is None:
        missing.append("Chromium (apt-get install chromium, oder CHROMIUM_PATH setzen)")
    if not AXE_PATH.exists():
        missing.append("axe-core (npm ci im Projektordner)")
    return missing


_MISSING = missing_tools()
_browser_tests = []


def pytest_collection_modifyitems(config, items):
    own = [item for item in items if Path(str(item.fspath)).is_relative_to(HERE)]
    _browser_tests[:] = own
    if not own or not _MISSING:
        return
    reason = "Browser- und Barrierefreiheitstests übersprungen, es fehlt: " + "; ".join(_MISSING)
    if REQUIRED:
        raise pytest.UsageError("E2E_REQUIRED=1, aber " + reason)
    for item in own:
        item.add_marker(pytest.mark.skip(reason=reason))


def pytest_terminal_summary(terminalreporter):
    if not _browser_tests:
        return
    if _MISSING:
        terminalreporter.write_sep("=", "BROWSERTESTS ÜBERSPRUNGEN", yellow=True, bold=True)
        terminalreporter.write_line(f"{len(_browser_tests)} Browser- und Barrierefreiheitstests liefen nicht. Es fehlt:")
        for hint in _MISSING:
            terminalreporter.write_line(f"  - {hint}")
    else:
        terminalreporter.write_line(
            f"Browsertests: {len(_browser_tests)} mit {find_chromium()}; "
            f"Screenshots von Fehlschlägen in {OUTPUT}")


@pytest.fixture(autouse=True)
def _clean():
    """Overrides the suite's per-test table cleaning: the browser tests use their own server
    and database and never touch the suite's."""
    yield


# --- the server ----------------------------------------------------------------------

def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_database(url):
    """A fresh database beside the suite's: `<name>_e2e` on the same server."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/") + "_e2e"
    plain = urlunsplit(parts._replace(scheme="postgresql")).replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path="/" + name)), plain, name


def _drop_postgres_database(plain_url, name):
    import psycopg

    with psycopg.connect(plain_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class LiveServer:
    def __init__(self, url, database_url, log_path):
        self.url = url
        self.database_url = database_url
        self.log_path = log_path

    def log_tail(self, lines=40):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """`python run.py` with the demo process, as `make run` starts it, on its own database."""
    if _MISSING:
        pytest.skip("Browsertests nicht möglich")
    instance = tmp_path_factory.mktemp("e2e-instance")
    dropper = None
    if is_postgres():
        database_url, plain, name = _postgres_database(TEST_DATABASE_URL)
        dropper = (plain, name)
    else:
        database_url = f"sqlite:///{instance / 'e2e.sqlite'}"
    port = _free_port()
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "e2e-secret-key-not-for-production",
        "SESSION_COOKIE_SECURE": "0",
        "SCHEDULER_ENABLED": "0",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # demo load: 60 accounts in seconds
        "FORM_MIN_FILL_SECONDS": "0",  # the browser fills forms faster than a person
        "REGISTER_RATE_LIMIT": "50 per hour",  # several journeys register from one address
        "PYTHONUNBUFFERED": "1",
    })
    OUTPUT.mkdir(parents=True, exist_ok=True)
    log_path = OUTPUT / "server.log"
    log = open(log_path, "w")
    process = subprocess.Popen([sys.executable, "run.py", "--port", str(port)], cwd=PROJECT, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = LiveServer(f"http://127.0.0.1:{port}", database_url, log_path)
    try:
        deadline = time.monotonic() + 300
        while True:
            if process.poll() is not None:
                pytest.fail(f"run.py endete mit {process.returncode}:\n{server.log_tail()}")
            try:
                urllib.request.urlopen(server.url + "/", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"run.py antwortete nicht:\n{server.log_tail()}")
                time.sleep(0.3)
        yield server
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
        if dropper:
            _drop_postgres_database(*dropper)


# --- the browser ---------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser():
    if _MISSING:
        pytest.skip("Browsertests nicht möglich")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=find_chromium())
        yield browser
        browser.close()


_storage_states = {}


def log_in(context, base_url, role):
    """Sign a browser context in through the login form (once per role; the cookies are reused)."""
    if role in _storage_states:
        context.add_cookies(_storage_states[role])
        return
    email, password = LOGINS[role]
    page = context.new_page()
    page.goto(base_url + "/anmelden")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#submit")
    page.wait_for_load_state()
    assert "/anmelden" not in page.url, f"Anmeldung als {role} fehlgeschlagen: {page.url}"
    _storage_states[role] = context.cookies()
    page.close()


class PageProblems:
    """What the browser reported while a test ran: CSP violations, script errors, 5xx responses."""

    def __init__(self):
        self.items = []

    def watch(self, page):
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.items.append(f"Skriptfehler: {error}"))
        page.on("response", self._response)

    def _console(self, message):
        text = message.text
        if message.type == "error" and ("Content Security Policy" in text or "Refused to" in text):
            self.items.append(f"CSP: {text}")
        elif message.type == "error" and "Failed to load resource" not in text:
            self.items.append(f"Konsole: {text}")

    def _response(self, response):
        if response.status >= 500:
            self.items.append(f"HTTP {response.status}: {response.url}")


@pytest.fixture
def make_page(browser, live_server, request):
    """`make_page(role=None)`: a new browser context (own cookies) with one page, signed in as
    the role. Problems the page reports fail the test; failing tests leave a screenshot."""
    contexts = []
    problems = PageProblems()

    def make(role=None, **options):
        options.setdefault("locale", "de-DE")
        options.setdefault("timezone_id", "Europe/Berlin")
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        if role:
            log_in(context, live_server.url, role)
        page = context.new_page()
        problems.watch(page)
        return page

    yield make
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    if failed:
        OUTPUT.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.split("::", 1)[-1])[:120]
        for number, context in enumerate(contexts):
            for index, page in enumerate(context.pages):
                target = OUTPUT / f"{stem}-{number}-{index}"
                try:
                    page.screenshot(path=f"{target}.png", full_page=True)
                    target.with_suffix(".html").write_text(page.content())
                except Exception:  # noqa: BLE001 – a closed page has nothing to show
                    pass
        print(f"\nScreenshots des Fehlschlags: {OUTPUT}/{stem}-*.png")
    for context in contexts:
        context.close()
    if not failed:
        assert not problems.items, "Der Browser meldete:\n" + "\n".join(problems.items)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, "rep_" + report.when, report)


# --- axe-core --------------------------------------------------------------------------

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def run_axe(page):
    """axe-core's WCAG 2.1 A/AA rules on the page as it is now; returns the violations.

    The script is evaluated through the DevTools protocol, which the page's
    Content-Security-Policy does not govern, so the policy stays as in production."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_PATH.read_text())
    return page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => ({target: n.target.join(' '), summary: n.failureSummary})),
            }));
        }""",
        AXE_TAGS,
    )


def format_violations(url, violations):
    lines = [f"{url}:"]
    for violation in violations:
        lines.append(f"  {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            lines.append(f"    {node['target']}: {node['summary']}".replace("\n", " "))
    return "\n".join(lines)


# --- helpers for the journeys ------------------------------------------------------------

def labelled(scope, label):
    """The form field whose label is `label`, with or without the required marker " *"."""
    return scope.get_by_label(re.compile(rf"^\s*{re.escape(label)}(\s*\*)?\s*$"))


def fill_form(scope, values):
    """Fill fields of a form (or any locator/page) by their visible labels, as a person would.

    `values` maps label text to a value: a select takes the option's text, a checkbox or radio
    True/False, every other field a string. Labels are matched whole; the required marker " *"
    after a label does not count. The bot trap of public forms stays as rendered: filling the
    honeypot `homepage` is refused, and `form_started` (hidden, no label) is never touched."""
    for label, value in values.items():
        field = labelled(scope, label)
        kind, name = field.evaluate("el => [el.tagName.toLowerCase() + ':' + (el.type || ''), el.name]")
        if name == "homepage":
            raise ValueError("fill_form: das Honeypot-Feld `homepage` muss leer bleiben")
        if kind.startswith("select:"):
            field.select_option(label=value)
        elif kind in ("input:checkbox", "input:radio"):
            field.set_checked(bool(value))
        else:
            field.fill(str(value))


def expect_flash(page, text):
    """Wait until the page shows a flash message containing `text` (a string or a pattern)."""
    from playwright.sync_api import expect

    expect(page.locator(".flashes")).to_contain_text(text)
