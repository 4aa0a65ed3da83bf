"""axe-core (WCAG 2.1 A and AA) on every page a role can reach, in a real browser.

Each role's crawl starts at its home pages and follows the site's own links, checking one page
per route (the first link found to it). Anonymous visitors cover every public page; the
citizen, member, staff and admin crawls cover the pages of their areas. A public route the
crawl cannot reach by a link fails the coverage test unless it is listed below with the reason.
Forms are also checked in their error state (an empty submit), where most faults hide.

Every page is checked in both themes: the light one and the dark one that follows the
operating system's setting (static/css/dark.css), emulated with `prefers-color-scheme`.
"""
import os
from urllib.parse import urlsplit

import pytest

from .conftest import format_violations, run_axe

# Public GET routes no page links to, and why they need no page check here.
UNLINKED_PUBLIC = {
    "auth.reset_password": "nur über den Link in der E-Mail erreichbar (Token)",
    "auth.confirm_email": "nur über den Link in der E-Mail erreichbar; leitet weiter",
    "ideas.similar": "Fragment für die Ähnlichkeitssuche im Ideenformular (per Skript geladen)",
    "calendar.body_feed": "persönlicher Kalender-Link (Token), keine HTML-Seite",
    "calendar.personal_feed": "persönlicher Kalender-Link (Token), keine HTML-Seite",
    "calendar.user_feed": "persönlicher Kalender-Link (Token), keine HTML-Seite",
    "working_group.material": "Datei-Download eines Tagesordnungspunkts",
    "static": "Dateien",
}
NOT_CRAWLED = ("/abmelden", "/static/")
STARTS = {
    None: ["/", "/anmelden", "/registrieren", "/passwort-vergessen"],
    "citizen": ["/", "/konto/"],
    "member": ["/arbeitskreis/", "/konto/"],
    "staff": ["/verwaltung/", "/"],
    "admin": ["/verwaltung/"],
}
# The public pages are checked anonymously and, signed in, once more only where they differ.
AREAS = {
    None: {"everyone"},
    "citizen": {"signed_in"},
    "member": {"signed_in", "working_group"},
    "staff": {"staff"},
    "admin": {"admin"},
}
# Public pages that look different signed in (forms to support, comment, register, propose).
SIGNED_IN_VIEWS = {
    "citizen": ("ideas.", "events.", "measures.detail", "main.index"),
    "member": ("working_group.", "events.detail"),
}
PAGE_LIMIT = 200
THEMES = ["light", "dark"]
THEME_NAMES = {"light": "hell", "dark": "dunkel"}


@pytest.fixture(scope="session")
def routes():
    """URL matching and audiences of the app's routes (an app object, no database needed)."""
    from beteiligung import create_app
    from beteiligung.access import audience_of
    from beteiligung.config import TestingConfig
    from beteiligung.roles import ADMIN, EVERYONE, SIGNED_IN, STAFF, WORKING_GROUP

    app = create_app(TestingConfig(os.environ.get("TEST_DATABASE_URL") or "sqlite://"))
    names = {EVERYONE: "everyone", SIGNED_IN: "signed_in", WORKING_GROUP: "working_group", STAFF: "staff",
             ADMIN: "admin"}
    with app.test_request_context():
        audiences = {rule.endpoint: names.get(audience_of(rule.endpoint)) for rule in app.url_map.iter_rules()}
        public_get = {rule.endpoint for rule in app.url_map.iter_rules()
                      if "GET" in rule.methods and audiences[rule.endpoint] == "everyone"}
    adapter = app.url_map.bind("127.0.0.1")

    def endpoint_of(path):
        try:
            return adapter.match(path, method="GET")[0]
        except Exception:  # noqa: BLE001 – 404/405/redirects: not a page of ours
            return None

    return {"audience": audiences, "public_get": public_get, "endpoint_of": endpoint_of}


def crawl(page, base_url, role, routes):
    """Visit one page per route of the role's areas; return (checked, non_html, violations)."""
    queue = list(STARTS[role])
    seen_urls, checked, non_html, violations = set(queue), {}, {}, []
    while queue and len(checked) < PAGE_LIMIT:
        path = queue.pop(0)
        endpoint = routes["endpoint_of"](urlsplit(path).path)
        if endpoint is None or endpoint in checked or endpoint in non_html:
            continue
        if (routes["audience"].get(endpoint) not in AREAS[role] and path not in STARTS[role]
                and not endpoint.startswith(SIGNED_IN_VIEWS.get(role, ()))):
            continue
        probe = page.request.get(base_url + path, max_redirects=0)
        if not probe.headers.get("content-type", "").startswith("text/html"):
            non_html[endpoint] = path  # a download or feed: no page to check
            continue
        response = page.goto(base_url + path)
        assert response.status < 400, f"{path} als {role or 'Gast'}: HTTP {response.status}"
        checked[endpoint] = path
        for theme in THEMES:  # the same page, switched between the themes
            page.emulate_media(color_scheme=theme)
            found = run_axe(page)
            if found:
                violations.append(format_violations(f"{path} ({THEME_NAMES[theme]})", found))
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            parts = urlsplit(href)
            if f"{parts.scheme}://{parts.netloc}" != base_url or parts.path.startswith(NOT_CRAWLED):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target not in seen_urls:
                seen_urls.add(target)
                queue.append(target)
    return checked, non_html, violations


@pytest.mark.parametrize("role", [None, "citizen", "member", "staff", "admin"],
                         ids=["gast", "buergerin", "arbeitskreis", "verwaltung", "admin"])
def test_pages_have_no_axe_violations(make_page, live_server, routes, role):
    page = make_page(role)
    checked, non_html, violations = crawl(page, live_server.url, role, routes)
    print(f"\n{role or 'Gast'}: {len(checked)} Seiten mit axe geprüft, je hell und dunkel; {len(non_html)} Downloads/Feeds")
    assert len(checked) >= 5, checked
    assert not violations, "axe-core (WCAG 2.1 A/AA) fand Verstöße:\n" + "\n".join(violations)
    if role is None:
        unreached = routes["public_get"] - set(checked) - set(non_html) - set(UNLINKED_PUBLIC)
        unreached = {endpoint for endpoint in unreached if not endpoint.startswith("api.")}
        assert not unreached, f"öffentliche Seiten, die kein Link erreicht: {sorted(unreached)}"


FORMS_IN_ERROR_STATE = [
    (None, "/anmelden"),
    (None, "/registrieren"),
    (None, "/passwort-vergessen"),
    ("citizen", "/ideen/neu"),
    ("staff", "/verwaltung/veranstaltungen/neu"),
]


@pytest.mark.parametrize("theme", THEMES, ids=["hell", "dunkel"])
@pytest.mark.parametrize("role,path", FORMS_IN_ERROR_STATE, ids=[p for _r, p in FORMS_IN_ERROR_STATE])
def test_forms_with_errors_have_no_axe_violations(make_page, live_server, role, path, theme):
    page = make_page(role, color_scheme=theme)
    page.goto(live_server.url + path)
    # The browser's own checks (required, type=email) would stop the submit before the server
    # sees it; the server's messages are what this checks.
    page.evaluate("document.querySelectorAll('form').forEach(f => f.noValidate = true)")
    page.locator("main form[method=post] [type=submit]").last.click()
    page.wait_for_load_state()
    errors = page.locator("[aria-invalid=true], .field-error, .errors, [role=alert]")
    assert errors.count() > 0, f"{path}: keine Fehlermeldung nach leerem Absenden"
    found = run_axe(page)
    assert not found, format_violations(f"{path} (mit Fehlern, {theme})", found)


def test_dark_theme_follows_the_system_setting(make_page, live_server):
    """The emulation reaches the stylesheet: the same page has other colours in the dark theme."""
    colours = {}
    for theme in THEMES:
        page = make_page(None, color_scheme=theme)
        page.goto(live_server.url + "/")
        colours[theme] = page.evaluate("[getComputedStyle(document.body).backgroundColor, getComputedStyle(document.body).color]")
    assert colours["light"] == ["rgb(255, 255, 255)", "rgb(27, 31, 35)"]
    assert colours["dark"] == ["rgb(22, 25, 28)", "rgb(232, 234, 237)"]
