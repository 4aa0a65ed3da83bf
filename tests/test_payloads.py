"""Hostile input everywhere: XSS, template, formula and SQL-injection payloads go into every
text field of every form and every query parameter, and must come back inert.

- Forms: every GET page of the app (url_map, with the route matrix's sample objects, and the
  pages linked from there) is opened as anonymous, citizen, member and admin; each POST form
  found is submitted by the least privileged of them that sees it, with a payload in every
  free-text field (valid values where a format is required; the honeypot `homepage` empty,
  `form_started` and the CSRF token as rendered). Fields the app refuses get plain values
  on a second try, so the payloads in the others reach the database. The JSON API's write
  operations (from its OpenAPI document) get the same. Then every page, JSON answer, CSV
  export and calendar feed is read again and must carry the payloads only as text.
- Query parameters: every GET route, with every parameter its view reads (recorded while it
  runs, plus the GET forms and the OpenAPI document; a source scan checks that nothing
  literally read in the code is missed), gets SQL-injection payloads, XSS and redirect
  payloads (all of them where the value comes back in the answer), a very long value, huge
  numbers, a NUL byte and broken UTF-8 (those in turn over the parameters; all to every one
  with PAYLOAD_SWEEP_FULL=1). No 500, nothing reflected live, an injected `' OR '1'='1`
  finds no more than nonsense, and no table changed or vanished.

Nothing here names a form, field, page or parameter: new ones are swept as they come.
"""
import os
import re
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import inspect, text

from . import payload_crawl as pc
from .conftest import _row_counts, login_as
from .test_access_matrix import _url, objects  # noqa: F401  (objects: the route matrix's sample data)

CRAWL_ROLES = ["anonymous", "citizen", "member", "admin"]  # least privileged first: they submit shared forms
PAGES_PER_ENDPOINT = 12  # at most this many pages per route (objects the forms created are linked)
FORM_ROUNDS = 2  # every form twice, with other payloads in its fields the second time
ROUND_SHIFT = 7  # payloads move on by this much per round: a field gets another kind the second time
# Besides the compared injections (and the XSS ones where a parameter's value comes back), each
# parameter gets this many of the others, in turn over the parameters (every payload is sent many
# times per run); PAYLOAD_SWEEP_FULL=1 sends all of them to every parameter (about twice as long).
QUERY_PAYLOADS_PER_PARAMETER = 4 if not os.environ.get("PAYLOAD_SWEEP_FULL") else len(pc.QUERY_PAYLOADS)
# Submitted last, so that what they remove does not keep the other forms from storing payloads.
REMOVING_WORDS = ("loeschen", "abmelden", "absagen", "ausblenden", "stornieren", "widerrufen",
                  "zurueckziehen", "abbrechen", "ablehnen", "sperren")
SKIPPED_ENDPOINTS = {"static"}
PLAIN_TEXT = "Ein ganz gewöhnlicher Text für ein Feld, das die Nutzlast abgelehnt hat."
MAX_PROBLEMS_SHOWN = 40


# --- the app's routes ----------------------------------------------------------------------------------

def _get_rules(app):
    return sorted(((rule.endpoint, rule.rule) for rule in app.url_map.iter_rules()
                   if "GET" in rule.methods and rule.endpoint not in SKIPPED_ENDPOINTS), key=lambda r: r[1])


def _audiences(app):
    from beteiligung.access import audience_of

    with app.test_request_context():
        return {rule.endpoint: audience_of(rule.endpoint) or frozenset() for rule in app.url_map.iter_rules()}


def _detail_paths(app):
    """A pattern for the paths of pages about one object (rules with an int in the path)."""
    parts = [re.sub(r"<int:[^>]+>", r"\\d+", re.escape(rule.rule).replace(r"\<", "<").replace(r"\>", ">"))
             for rule in app.url_map.iter_rules() if "<int:" in rule.rule and "GET" in rule.methods]
    return re.compile("^(?:" + "|".join(parts) + ")$")


def _client(app, users, role):
    return login_as(app.test_client(), users.get(role))


def _unique(problems):
    """The problems once each: the same finding for several roles or rows shows the first."""
    seen, unique = set(), []
    for problem in problems:
        key = re.sub(r"^\(as \w+\) ", "", problem)
        if key not in seen:
            seen.add(key)
            unique.append(problem)
    return unique


class Raised:
    """Stands in for the 500 a view's exception is in production (the test app propagates it)."""

    status_code = 500
    mimetype = ""
    headers = {}

    def __init__(self, error):
        self.error = error

    def get_data(self, as_text=False):
        return "" if as_text else b""


def _request(client, method, url, **kwargs):
    try:
        return client.open(url, method=method, **kwargs)
    except Exception as error:  # noqa: BLE001  (any exception is a 500 for the visitor)
        return Raised(f"{type(error).__name__}: {str(error)[:200]}")


class Crawl:
    """Opens every GET route a role may see, and the site-internal pages linked from there."""

    def __init__(self, app, users, objects, audiences):  # noqa: F811
        self.app, self.users, self.objects, self.audiences = app, users, objects, audiences

    def start_urls(self, role):
        return [_url(rule, self.objects) for endpoint, rule in _get_rules(self.app)
                if role in self.audiences.get(endpoint, ())]

    def walk(self, role, on_response):
        client = _client(self.app, self.users, role)
        queue = list(self.start_urls(role))
        opened, per_endpoint = set(), Counter()
        while queue:
            url = queue.pop(0)
            path = urlsplit(url).path
            endpoint, view_args = pc.endpoint_for(self.app, path)
            if endpoint is None or endpoint in SKIPPED_ENDPOINTS or role not in self.audiences.get(endpoint, ()):
                continue
            key = (endpoint, tuple(sorted((view_args or {}).items())))
            if key in opened or per_endpoint[endpoint] >= PAGES_PER_ENDPOINT:
                continue
            opened.add(key)
            per_endpoint[endpoint] += 1
            response = _request(client, "GET", url)
            page = on_response(role, url, response)
            if response.status_code in (301, 302, 303, 307, 308):
                target = pc.local_path(response.headers.get("Location", ""), url)
                if target:
                    queue.append(target)
            if page is not None:
                queue += [target for target in (pc.local_path(link, url) for link in page.links) if target]
        return len(opened)


# --- forms ---------------------------------------------------------------------------------------------

def _removes_something(form):
    return any(word in form.action for word in REMOVING_WORDS)


def _collect_forms(crawl, problems):
    """{form key: (role, form)} for the POST forms with a free-text field, least privileged role first."""
    forms = {}
    filler = pc.FormFiller()
    pages = Counter()

    def on_response(role, url, response):
        problems.extend(f"(before the sweep, as {role}) {p}" for p in pc.check_response(response, url))
        pages[role] += 1
        if response.mimetype != "text/html" or response.status_code != 200:
            return None
        page = pc.read_page(response.get_data(as_text=True), url)
        for form in page.forms:
            if form.method != "post":
                continue
            if not any(filler.takes_payload(f) or filler.takes_url_payload(f) for f in form.fields):
                continue
            forms.setdefault(form.key(), (role, form))
        return page

    for role in CRAWL_ROLES:
        crawl.walk(role, on_response)
    return forms, pages


def _submit(app, users, role, form, filler, offset, problems, outcomes):
    """Open the form's page afresh, fill it with payloads and send it; refused fields get plain values."""
    client = _client(app, users, role)
    page = _request(client, "GET", form.page)
    if page.status_code != 200 or page.mimetype != "text/html":
        outcomes["page gone"] += 1
        return
    current = next((f for f in pc.read_page(page.get_data(as_text=True), form.page).forms
                    if f.key() == form.key()), None)
    if current is None:
        outcomes["form gone"] += 1
        return
    where = f"POST {current.action} as {role} (form on {form.page})"
    data, markers = filler.fill(current, offset, where)
    refilled = set()
    for attempt in range(4):
        response = _request(client, "POST", current.action, data=data)
        if response.status_code >= 500:
            fields = {name: data.get(name)[:60] for name in markers}
            problems.append(f"{where}: {response.status_code} {getattr(response, 'error', '')} with {fields}")
            outcomes["500"] += 1
            return
        problems.extend(f"{where} (answer): {p}"
                        for p in pc.check_response(response, current.action, filler.texts))
        if response.status_code in (301, 302, 303):
            outcomes["stored" if attempt == 0 else "stored after plain values"] += 1
            return
        invalid = pc.invalid_fields(response.get_data(as_text=True)) if response.mimetype == "text/html" else set()
        if response.status_code != 200 or not invalid:
            outcomes[f"refused ({response.status_code})"] += 1
            return
        data = filler.refill(current, data, invalid, refilled)
    outcomes["refused after plain values"] += 1


def _api_writes(app, users, objects, filler, select_values, problems, outcomes):  # noqa: F811
    """POST/PUT/PATCH every JSON operation of the OpenAPI document with payloads in its strings."""
    from beteiligung.auth.models import User
    from beteiligung.auth.services import create_api_token
    from beteiligung.extensions import db

    with app.app_context():
        _token, secret = create_api_token(db.session.get(User, users["citizen"].id), "Payloads")
        db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document.get("components", {}).get("schemas", {})
    base = (document.get("servers") or [{"url": "/api/v1"}])[0]["url"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            body_schema = (operation.get("requestBody", {}).get("content", {})
                           .get("application/json", {}).get("schema"))
            if method not in ("post", "put", "patch") or not body_schema:
                continue
            schema = schemas[body_schema["$ref"].rsplit("/", 1)[-1]] if "$ref" in body_schema else body_schema
            url = urlsplit(base).path.rstrip("/") + re.sub(r"\{([^}]+)\}", lambda m: str(objects[m.group(1)]), path)
            body, markers = {}, {}
            for name, prop in schema.get("properties", {}).items():
                kinds = prop.get("type") if isinstance(prop.get("type"), list) else [prop.get("type")]
                if "enum" in prop:
                    body[name] = prop["enum"][0]
                elif "string" in kinds:
                    n, value = filler.next_payload(prop.get("maxLength"), prop.get("minLength"),
                                                   f"{method.upper()} {url} {name}")
                    if n is None:
                        body[name] = PLAIN_TEXT[:prop.get("maxLength")]
                    else:
                        body[name], markers[name] = value, n
                elif "null" in kinds:
                    body[name] = None
                elif "number" in kinds or "integer" in kinds:
                    body[name] = prop.get("minimum", 1)
            where = f"{method.upper()} {url} (API)"
            for _attempt in range(len(body) + 1):
                response = _request(client, method.upper(), url, json=body, headers=headers)
                if response.status_code >= 500:
                    problems.append(f"{where}: {response.status_code} {getattr(response, 'error', '')} with {body}")
                    break
                problems.extend(f"{where} (answer): {p}" for p in pc.check_response(response, url, filler.texts))
                if response.status_code < 400:
                    outcomes["API stored"] += 1
                    break
                refused = (response.get_json(silent=True) or {}).get("field")
                if response.status_code != 422 or refused not in markers:
                    outcomes[f"API refused ({response.status_code})"] += 1
                    break
                # A plain value: a choice the HTML forms offer under the same name, or plain text.
                body[refused] = select_values.get(refused, PLAIN_TEXT[:schema["properties"][refused].get("maxLength")])
                markers.pop(refused)


def test_payloads_in_every_form_come_back_inert(app, users, objects):  # noqa: F811
    audiences = _audiences(app)
    crawl = Crawl(app, users, objects, audiences)
    problems = []
    forms, first_pages = _collect_forms(crawl, problems)
    assert problems == [], "\n".join(_unique(problems)[:MAX_PROBLEMS_SHOWN])

    filler = pc.FormFiller()
    outcomes = Counter()
    ordered = sorted(forms.values(), key=lambda item: (_removes_something(item[1]), CRAWL_ROLES.index(item[0])))
    for offset in range(FORM_ROUNDS):
        for role, form in ordered:
            _submit(app, users, role, form, filler, offset * ROUND_SHIFT, problems, outcomes)
    select_values = {f.name: filler.select_value(f) for _role, form in forms.values()
                     for f in form.fields if f.tag == "select" and filler.select_value(f)}
    _api_writes(app, users, objects, filler, select_values, problems, outcomes)

    formats = defaultdict(set)  # marker -> formats it was seen in
    pages = Counter()
    texts = filler.texts

    def on_response(role, url, response):
        found = set()
        problems.extend(f"(as {role}) {p}" for p in pc.check_response(response, url, texts, found))
        for n, fmt in found:
            formats[n].add(fmt)
        pages[role] += 1
        if response.mimetype == "text/html" and response.status_code == 200:
            return pc.read_page(response.get_data(as_text=True), url)
        return None

    for role in CRAWL_ROLES:
        crawl.walk(role, on_response)

    def where(problem):
        for match in pc.MARKER.finditer(problem):
            n = int(match.group(1))
            if n in filler.written:
                return f"{problem}\n    <- {filler.written[n][0]} payload from {filler.written[n][2]}"
        return problem

    problems = _unique(problems)
    assert problems == [], f"{len(problems)} problems:\n" + "\n".join(where(p) for p in problems[:MAX_PROBLEMS_SHOWN])

    kinds_in = defaultdict(set)
    for n, found in formats.items():
        if n in filler.written:
            for fmt in found:
                kinds_in[fmt].add(filler.written[n][0])
    fields = sum(len(form.fields) for _role, form in forms.values())
    free_text = sum(filler.takes_payload(f) or filler.takes_url_payload(f)
                    for _role, form in forms.values() for f in form.fields)
    print(f"\nforms: {len(forms)} POST forms with free text ({Counter(r for r, _f in forms.values())}), "
          f"{fields} fields, {free_text} of them free text; {len(filler.written)} payloads written in "
          f"{FORM_ROUNDS} rounds and the API; outcomes {dict(outcomes)}; "
          f"pages before {dict(first_pages)}, after {dict(pages)}; payloads seen on pages: "
          f"{len([n for n in formats if n in filler.written])}; kinds per format: "
          f"{ {fmt: len(kinds) for fmt, kinds in kinds_in.items()} }")
    assert outcomes["500"] == 0
    # Not vacuous: the hostile text really reached pages, exports and the API, and was checked there.
    missing = pc.MUST_REACH_A_PAGE - kinds_in["html"]
    assert not missing, f"payload kinds that reached no page (the sweep stored nothing of them): {missing}"
    assert kinds_in["csv"] & pc.FORMULA_KINDS, "no formula payload reached a CSV export"
    assert kinds_in["json"], "no payload reached a JSON answer"


# --- query parameters ------------------------------------------------------------------------------------

def _openapi_parameters(app):
    """{path under the API: query parameter names} from the OpenAPI document."""
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    base = urlsplit((document.get("servers") or [{"url": "/api/v1"}])[0]["url"]).path.rstrip("/")
    names = {}
    for path, operations in document["paths"].items():
        parameters = operations.get("get", {}).get("parameters", [])
        names[base + re.sub(r"\{[^}]+\}", "*", path)] = {p["name"] for p in parameters if p.get("in") == "query"}
    return names


def _parameters_per_route(app, users, objects, audiences, monkeypatch):  # noqa: F811
    """{(endpoint, url): parameter names} as the views read them, plus GET forms and the API document."""
    class RecordingRequest(app.request_class):
        parameter_storage_class = pc.RecordingArgs

    monkeypatch.setattr(app, "request_class", RecordingRequest)
    api = _openapi_parameters(app)
    admin = _client(app, users, "admin")
    routes = {}
    for endpoint, rule in _get_rules(app):
        url = _url(rule, objects)
        names = set()
        for _pass in range(2):  # the second time with values: names read only when another is given
            pc.RecordingArgs.log = set()
            query = "&".join(pc.query_string(name, "value", "1") for name in sorted(names))
            response = admin.get(url + (f"?{query}" if query else ""))
            names |= pc.RecordingArgs.log
            pc.RecordingArgs.log = None
        if response.mimetype == "text/html" and response.status_code == 200:
            for form in pc.read_page(response.get_data(as_text=True), url).forms:
                if form.method == "get" and pc.endpoint_for(app, urlsplit(form.action).path)[0] == endpoint:
                    names |= {f.name for f in form.fields if f.tag != "button" and f.type != "submit"}
        for pattern, api_names in api.items():
            if re.fullmatch(re.escape(pattern).replace(r"\*", r"[^/]+"), url):
                names |= api_names
        routes[(endpoint, url)] = names
    return routes


def test_query_parameters_take_payloads_inertly(app, users, objects, monkeypatch):  # noqa: F811
    from beteiligung.auth.models import User
    from beteiligung.extensions import db

    audiences = _audiences(app)
    with app.app_context():
        untouched = _row_counts()
    routes = _parameters_per_route(app, users, objects, audiences, monkeypatch)
    read = set().union(*routes.values())
    literal = pc.statically_read_parameters()
    unseen = {name: where for name, where in literal.items() if name not in read}
    assert not unseen, f"parameters read in the code but by no GET route the sweep opened: {unseen}"

    with app.app_context():
        hashes = [h.encode() for h in db.session.scalars(db.select(User.password_hash)) if h]
        before = _row_counts()
    detail_paths = _detail_paths(app)
    clients = {role: _client(app, users, role) for role in ("anonymous", "admin")}
    problems, counts = [], {}
    requests = 0
    compared = [p for p in pc.QUERY_PAYLOADS if p[0] in pc.COMPARED or p[0] in pc.COMPARED.values()]
    reflected = [p for p in pc.QUERY_PAYLOADS if p[0] in pc.REFLECTED]
    rotating = [p for p in pc.QUERY_PAYLOADS if p not in compared and p not in reflected]
    used, reflecting = Counter(), set()
    turn = 0
    for route_index, ((endpoint, url), names) in enumerate(routes.items()):
        public = "anonymous" in audiences[endpoint]
        for name_index, name in enumerate(sorted(names)):
            # Public routes: anonymous and admin take turns per parameter. Every parameter gets the
            # injections whose result counts are compared (nonsense first); one whose value comes
            # back in the answer all the XSS and redirect payloads; all get the next few of the
            # others in turn.
            role = "anonymous" if public and (route_index + name_index) % 2 else "admin"
            window = [rotating[(turn + i) % len(rotating)]
                      for i in range(min(QUERY_PAYLOADS_PER_PARAMETER, len(rotating)))]
            turn += QUERY_PAYLOADS_PER_PARAMETER
            queue = compared + window
            while queue:
                payload_name, value = queue.pop(0)
                used[payload_name] += 1
                target = f"{url}?{pc.query_string(name, payload_name, value)}"
                response = _request(clients[role], "GET", target)
                requests += 1
                found = pc.check_response(response, target, pc.QUERY_MARKED)
                body = response.get_data()
                if payload_name == "nonsense" and (pc.NONSENSE.encode() in body
                                                   or pc.NONSENSE in response.headers.get("Location", "")):
                    reflecting.add((url, name))
                    queue += [p for p in reflected if p not in queue]
                found += [f"GET {target}: a password hash in the answer" for h in hashes if h in body]
                if value is not None and response.mimetype == "text/html" and len(value) < 200 \
                        and any(ch in value for ch in "<>\"") and value in body.decode("utf-8", "replace"):
                    found.append(f"GET {target}: the payload is in the page unescaped")
                problems.extend(f"(as {role}) {p}" for p in found)
                if (payload_name in pc.COMPARED or payload_name in pc.COMPARED.values()) \
                        and response.status_code == 200:
                    counts[(url, name, payload_name)] = pc.result_count(response, detail_paths)
    for (url, name, payload_name), count in counts.items():
        control = pc.COMPARED.get(payload_name)
        baseline = counts.get((url, name, control))
        if baseline is not None and count > baseline:
            problems.append(f"GET {url}?{name}=<{payload_name}>: {count} results, <{control}> finds {baseline}")

    with app.app_context():
        db.session.remove()
        assert inspect(db.engine).has_table("users")
        after = _row_counts()
        assert db.session.execute(text("SELECT count(*) FROM users")).scalar() == before["users"]
    # Tables that plain GETs write to (the audit log of personal-data exports) may only grow.
    growing = {table for table in before if before[table] != untouched[table]}
    changed = {table: f"{before[table]} -> {after[table]}" for table in before
               if after[table] < before[table] or (after[table] > before[table] and table not in growing)}
    print(f"\nquery sweep: {len(routes)} GET routes, {sum(bool(n) for n in routes.values())} with parameters, "
          f"{sum(len(n) for n in routes.values())} route parameters ({len(read)} names: {sorted(read)}), "
          f"{len(reflecting)} of them answer with their value, "
          f"{len(pc.QUERY_PAYLOADS)} payloads (least used {min(used.values())} times), {requests} requests, "
          f"{len(counts)} result counts compared; tables plain GETs write to: {sorted(growing)}")
    problems = _unique(problems)
    if os.environ.get("PAYLOAD_PROBLEMS_FILE"):  # all of them, for a report
        Path(os.environ["PAYLOAD_PROBLEMS_FILE"]).write_text("\n".join(problems), encoding="utf-8")
    assert problems == [], f"{len(problems)} problems:\n" + "\n".join(problems[:MAX_PROBLEMS_SHOWN])
    assert changed == {}, f"GET requests with payloads changed rows: {changed}"
    assert set(used) == {name for name, _value in pc.QUERY_PAYLOADS}, "a payload the sweep never sent"
