"""Hostile input for the payload tests (tests/test_payloads.py): the payloads, a form filler,
a small crawler over the app's GET routes, and the checks that a response carries the
payloads only as inert text.

Nothing here knows a particular form or page: forms are read from the rendered HTML, routes
from the app's url_map, query parameters from what the views really read (see
`RecordingArgs`) and from the source, so new forms, fields, routes and parameters are swept
without a change here.
"""
import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urlsplit

from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

PACKAGE = Path(__file__).resolve().parent.parent / "beteiligung"

# --- payloads ----------------------------------------------------------------------------------------

# Every form payload carries a marker "xss<n>" (n numbers the field it was put into), so a
# finding names the field it came from and the sweep can tell which payloads reached a page.
MARKER = re.compile(r"xss(\d+)")


@dataclass(frozen=True)
class Payload:
    kind: str
    template: str  # "{n}" is replaced by the marker number

    def render(self, n):
        return self.template.replace("{n}", str(n))


FORM_PAYLOADS = [
    Payload("script", '<script>alert("xss{n}")</script>'),
    Payload("img-onerror", "\"><img src=x onerror=alert('xss{n}')>"),
    Payload("attribute-breakout", "' autofocus onfocus=alert('xss{n}') x='"),
    Payload("svg-onload", "<svg onload=alert('xss{n}')>"),
    Payload("closing-tags", "</textarea></title></style><script>alert('xss{n}')</script>"),
    Payload("javascript-url", "javascript:alert('xss{n}')"),
    Payload("markdown-link", "[klick](javascript:alert('xss{n}')) und [hier](JaVaScRiPt:alert('xss{n}'))"),
    Payload("html-link", "<a href=\"javascript:alert('xss{n}')\">xss{n}</a>"),
    Payload("jinja", "tpl{{7*7}}xss{n}"),
    Payload("dollar-template", "tpl${7*7}xss{n}"),
    Payload("config-template", "{{config}}{{self}}xss{n}"),
    Payload("formula-equals", "=cmd|' /C calc'!A0 xss{n}"),
    Payload("formula-plus", "+SUM(1+1)*cmd|' /C calc'!A0 xss{n}"),
    Payload("formula-minus", "-2+3+cmd|' /C calc'!A0 xss{n}"),
    Payload("formula-at", "@SUM(1+1)*cmd|' /C calc'!A0 xss{n}"),
    Payload("sql-or", "' OR '1'='1 xss{n}"),
    Payload("sql-drop", "1; DROP TABLE users;-- xss{n}"),
    Payload("sql-union", "1' UNION SELECT password_hash FROM users-- xss{n}"),
    Payload("sql-like", "%' -- xss{n}"),
    Payload("line-break", "xss{n}\r\nX-Injected: 1\r\nBEGIN:VEVENT"),
    Payload("nul-byte", "nul\x00xss{n}"),
    Payload("long", "xss{n} " + "Überlang " * 1200),
]
# Payloads a page must show (escaped) somewhere after the form sweep: proof that the sweep
# really stored hostile text and checked it, not only that no form accepted anything.
MUST_REACH_A_PAGE = {p.kind for p in FORM_PAYLOADS} - {"line-break", "nul-byte", "long"}
FORMULA_KINDS = {"formula-equals", "formula-plus", "formula-minus", "formula-at"}

NONSENSE = "zqxjvkwpfh"
# Injections that would widen a search, and the harmless value each must find no more than.
COMPARED = {"sql-or": "nonsense", "sql-like": "wordless", "like-wildcards": "wordless"}
SQL_OR = "' OR '1'='1"
# Query parameter payloads: (name, raw query value). A raw value is put into the query string
# as it is (already percent-encoded, e.g. invalid UTF-8); every other value is quoted.
QUERY_PAYLOADS = [
    ("nonsense", NONSENSE),
    ("sql-or", SQL_OR),
    ("sql-drop", "1; DROP TABLE users;--"),
    ("sql-union", "1' UNION SELECT password_hash FROM users--"),
    ("wordless", "' --"),  # control for the LIKE payloads: the same without wildcards
    ("sql-like", "%' --"),
    ("sql-quote", "'\"`;\\"),
    ("like-wildcards", "%_' --"),
    ("fts-syntax", 'a" OR b* NEAR(c) -d:e ^f & !g | (h'),
    ("script", '<script>alert("xss9001")</script>'),
    ("img-onerror", "\"><img src=x onerror=alert('xss9002')>"),
    ("attribute-breakout", "' autofocus onfocus=alert('xss9003') x='"),
    ("javascript-url", "javascript:alert('xss9004')"),
    ("jinja", "tpl{{7*7}}xss9005"),
    ("open-redirect", "//evil.example/xss9006"),
    ("open-redirect-absolute", "https://evil.example/xss9007"),
    ("header-injection", "x\r\nSet-Cookie: xss9008=1"),
    ("negative-number", "-1"),
    ("huge-number", "99999999999999999999999999"),
    ("long", "A" * 10000),
    ("nul-byte", "a\x00b"),
    ("invalid-utf8", None),  # raw: see QUERY_RAW
    ("overlong-utf8", None),
]
# Sent to every parameter whose value comes back in the answer (page, header or redirect).
REFLECTED = {"script", "img-onerror", "attribute-breakout", "javascript-url", "jinja", "open-redirect",
             "open-redirect-absolute", "header-injection"}
QUERY_MARKED = {int(m.group(1)): value for _name, value in QUERY_PAYLOADS if value
                for m in [MARKER.search(value)] if m}
QUERY_RAW = {"invalid-utf8": "%ff%fe%c3", "overlong-utf8": "%c0%af%e0%80%af"}


def query_string(name, payload_name, value):
    if value is None:
        return f"{quote(name)}={QUERY_RAW[payload_name]}"
    return f"{quote(name)}={quote(value, safe='')}"


# --- reading pages -----------------------------------------------------------------------------------

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "poster", "background", "cite", "ping",
                  "xlink:href", "codebase"}
NAVIGATING_ATTRIBUTES = {"href", "action", "formaction", "xlink:href"}
EMBEDDING_TAGS = {"iframe", "frame", "frameset", "object", "embed", "applet", "base"}
TEXT_INPUT_TYPES = {"text", "search", "tel", ""}


def _scheme(url):
    """The scheme as a browser reads it: whitespace and control characters inside are dropped."""
    cleaned = "".join(ch for ch in (url or "") if ord(ch) > 32).lower()
    return cleaned.split(":", 1)[0] if ":" in cleaned else ""


@dataclass
class FormField:
    tag: str  # input, textarea, select, button
    name: str
    type: str = ""
    value: str = ""
    checked: bool = False
    attrs: dict = field(default_factory=dict)
    options: list = field(default_factory=list)  # select: (value, selected, disabled)


@dataclass
class Form:
    page: str  # the URL the form was found on
    method: str
    action: str
    fields: list = field(default_factory=list)

    def key(self):
        return (self.method, self.action, tuple(sorted({f.name for f in self.fields if f.tag != "button"})))


class PageReader(HTMLParser):
    """Collects the forms and links of a page and everything that would run a payload."""

    def __init__(self, url=""):
        super().__init__(convert_charrefs=True)
        self.url = url
        self.findings = []
        self.forms = []
        self.links = []
        self._form = None
        self._script = None
        self._textarea = None
        self._select = None
        self._option = None

    def problem(self, text):
        self.findings.append(text)

    def handle_starttag(self, tag, attrs):
        attributes = {}
        for name, value in attrs:
            value = value or ""
            attributes.setdefault(name, value)
            if MARKER.search(name):
                self.problem(f"<{tag}> has an attribute made of a payload: {name}={value!r}")
            if name.startswith("on") and (MARKER.search(value) or "alert(" in value):
                self.problem(f"<{tag}> has an event handler from a payload: {name}={value!r}")
            if name in URL_ATTRIBUTES and _scheme(value) in ("javascript", "vbscript"):
                self.problem(f"<{tag} {name}> is a script URL: {value!r}")
            if name in NAVIGATING_ATTRIBUTES and _scheme(value) == "data":
                self.problem(f"<{tag} {name}> is a data URL: {value!r}")
            if name == "srcdoc":
                self.problem(f"<{tag}> has srcdoc: {value!r}")
        if tag in EMBEDDING_TAGS and any(MARKER.search(v) for v in attributes.values()):
            self.problem(f"<{tag}> built from a payload: {attributes}")
        if tag == "meta" and attributes.get("http-equiv", "").lower() == "refresh" \
                and MARKER.search(attributes.get("content", "")):
            self.problem(f"<meta refresh> from a payload: {attributes}")
        if tag == "script":
            self._script = []
            if MARKER.search(attributes.get("src", "")):
                self.problem(f"<script src> from a payload: {attributes['src']!r}")
        if tag == "a" and "href" in attributes:
            self.links.append(attributes["href"])
        self._form_tag(tag, attributes)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag == "script":
            self.handle_endtag(tag)

    def handle_data(self, data):
        if self._script is not None:
            self._script.append(data)
        if self._textarea is not None:
            self._textarea.value += data
        if self._option is not None:
            self._option[3] += data

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            body = "".join(self._script)
            if MARKER.search(body) or "alert(" in body:
                self.problem(f"<script> runs a payload: {body[:200]!r}")
            self._script = None
        elif tag == "textarea":
            if self._textarea is not None and self._textarea.value.startswith(("\r\n", "\n")):
                self._textarea.value = self._textarea.value.split("\n", 1)[1]  # as browsers read it
            self._textarea = None
        elif tag == "option":
            self._close_option()
        elif tag == "select":
            self._close_option()
            self._select = None
        elif tag == "form":
            self._form = None

    # forms

    def _form_tag(self, tag, attributes):
        if tag == "form":
            self._form = Form(self.url, (attributes.get("method") or "get").lower(),
                              attributes.get("action") or self.url)
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        name = attributes.get("name")
        if tag == "input" and name:
            self._form.fields.append(FormField("input", name, (attributes.get("type") or "text").lower(),
                                               attributes.get("value", ""), "checked" in attributes, attributes))
        elif tag == "textarea" and name:
            self._textarea = FormField("textarea", name, "textarea", "", False, attributes)
            self._form.fields.append(self._textarea)
        elif tag == "select" and name:
            self._select = FormField("select", name, "select", "", False, attributes)
            self._form.fields.append(self._select)
        elif tag == "option" and self._select is not None:
            self._close_option()
            self._option = [attributes.get("value"), "selected" in attributes, "disabled" in attributes, ""]
        elif tag == "button" and name:
            self._form.fields.append(FormField("button", name, (attributes.get("type") or "submit").lower(),
                                               attributes.get("value", ""), False, attributes))

    def _close_option(self):
        if self._option is not None and self._select is not None:
            value, selected, disabled, text = self._option
            self._select.options.append((text.strip() if value is None else value, selected, disabled))
        self._option = None


def read_page(html, url=""):
    reader = PageReader(url)
    reader.feed(html)
    reader.close()
    return reader


# --- checking responses ------------------------------------------------------------------------------

NUMBER = re.compile(r"[-+]?\d+([.,]\d+)*([eE][-+]?\d+)?")
ICS_LINE = re.compile(r"^[A-Za-z][A-Za-z0-9-]*(;[^:]*)?:")


def check_response(response, url, payloads_by_marker=None, seen=None):
    """Problems with one response: how it carries the payloads. `seen` collects (marker, format)."""
    problems = []
    where = f"GET {url}"
    if response.status_code >= 500:
        return [f"{where}: {response.status_code} {getattr(response, 'error', '')}".rstrip()]
    if response.headers.get("X-Content-Type-Options") != "nosniff":
        problems.append(f"{where}: no X-Content-Type-Options: nosniff")
    location = response.headers.get("Location")
    if location:
        target = urlsplit(location)
        if _scheme(location) not in ("", "http", "https") or (
                target.netloc not in ("", "localhost") and (MARKER.search(location) or "evil.example" in location)):
            problems.append(f"{where}: redirects to a target from a payload: {location!r}")
    for name, value in response.headers.items():
        if MARKER.search(name) or "\n" in value or "\r" in value:
            problems.append(f"{where}: header made of a payload: {name}: {value!r}")
    mimetype = response.mimetype
    data = response.get_data()
    if mimetype == "text/html":
        text = data.decode("utf-8", "replace")
        problems += [f"{where}: {p}" for p in read_page(text, url).findings]
        problems += [f"{where}: {p}" for p in _template_evaluated(text)]
        _note(seen, text, "html")
    elif mimetype == "application/json" or mimetype.endswith("+json"):
        problems += [f"{where}: {p}" for p in _check_json(data, payloads_by_marker or {}, seen)]
    elif mimetype == "text/csv":
        problems += [f"{where}: {p}" for p in _check_csv(data, seen)]
    elif mimetype == "text/calendar":
        problems += [f"{where}: {p}" for p in _check_ics(data)]
        _note(seen, data.decode("utf-8", "replace"), "ics")
    return problems


def _note(seen, text, fmt):
    if seen is not None:
        for match in MARKER.finditer(text):
            seen.add((int(match.group(1)), fmt))


def _template_evaluated(text):
    problems = []
    if "tpl49" in text:
        problems.append("a template expression from a payload was evaluated (tpl{{7*7}} -> tpl49)")
    if "&lt;Config " in text or "<Config " in text or "SECRET_KEY" in text:
        problems.append("the configuration was rendered (template injection)")
    return problems


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


HTML_ENTITY = re.compile(r"&(?:lt|gt|quot|amp|apos|#0*39|#x0*27|#0*60|#x0*3c);", re.IGNORECASE)


def _check_json(data, payloads_by_marker, seen):
    """JSON carries text as data: not HTML-escaped, and any HTML in it (rendered Markdown) inert."""
    try:
        document = json.loads(data)
    except ValueError as error:
        return [f"not valid JSON: {error}"]
    problems = []
    for text in _strings(document):
        markers = [int(match.group(1)) for match in MARKER.finditer(text)]
        if not markers:
            continue
        if seen is not None:
            seen.update((n, "json") for n in markers)
        written = " ".join(payloads_by_marker.get(n, "") for n in markers)
        if HTML_ENTITY.search(text) and not HTML_ENTITY.search(written):
            problems.append(f"payload HTML-escaped in JSON (it is data): {text[:160]!r}")
        if "<p>" in text or "</p>" in text:  # rendered Markdown (no payload has a paragraph): must be inert
            problems += [f"HTML in JSON: {p}" for p in read_page(text).findings]
        problems += [f"in JSON: {p}" for p in _template_evaluated(text)]
    return problems


def _check_csv(data, seen):
    text = data.decode("utf-8-sig", "replace")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    problems = []
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        for cell in row:
            _note(seen, cell, "csv")
            if cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not NUMBER.fullmatch(cell.strip()):
                problems.append(f"CSV cell would run as a formula: {cell[:80]!r}")
    return problems


def _check_ics(data):
    text = data.decode("utf-8", "replace")
    unfolded = re.sub(r"\r?\n[ \t]", "", text)
    return [f"calendar line outside a property (text broke out of its line): {line[:80]!r}"
            for line in unfolded.splitlines() if line and not ICS_LINE.match(line)]


def result_count(response, detail_paths):
    """How many results a list answered with: items of a JSON list, rows of a CSV, events of a
    calendar, distinct links to detail pages of an HTML page."""
    mimetype = response.mimetype
    data = response.get_data()
    if mimetype == "application/json":
        document = json.loads(data)
        if isinstance(document, dict) and isinstance(document.get("items"), list):
            return max(len(document["items"]), document.get("total") or 0)
        if isinstance(document, list):
            return len(document)
        return sum(len(v) for v in document.values() if isinstance(v, list)) if isinstance(document, dict) else 0
    if mimetype == "text/csv":
        return data.count(b"\n")
    if mimetype == "text/calendar":
        return data.count(b"BEGIN:VEVENT")
    if mimetype == "text/html":
        links = read_page(data.decode("utf-8", "replace")).links
        return len({urlsplit(link).path for link in links if detail_paths.match(urlsplit(link).path)})
    return 0


# --- query parameters the code reads -----------------------------------------------------------------

class RecordingArgs(ImmutableMultiDict):
    """request.args that remembers which names the view asked for."""

    log = None  # a set while recording

    def _seen(self, key):
        if RecordingArgs.log is not None and isinstance(key, str):
            RecordingArgs.log.add(key)

    def __getitem__(self, key):
        self._seen(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self._seen(key)
        return super().__contains__(key)

    def get(self, key, default=None, type=None):
        self._seen(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):
        self._seen(key)
        return super().getlist(key, type)


STATIC_ARG = re.compile(r"""request\.(?:args|values)(?:\.(?:get|getlist|pop)\(\s*|\[\s*)["']([^"']+)["']""")


def statically_read_parameters():
    """Query parameter names written literally in `request.args`/`request.values` reads."""
    names = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for match in STATIC_ARG.finditer(path.read_text(encoding="utf-8")):
            names.setdefault(match.group(1), str(path.relative_to(PACKAGE.parent)))
    return names


# --- filling forms -----------------------------------------------------------------------------------

STRONG_PASSWORD = "Payload-Linde-Saale-Windrad-77"  # nobody's password: forms asking for it are refused
HONEYPOT = "homepage"


class FormFiller:
    """Values for a form the way a careful attacker fills it: a payload in every free-text
    field, valid values where the browser would insist on a format."""

    def __init__(self, payloads=FORM_PAYLOADS, start=0):
        self.payloads = payloads
        self.counter = start
        self.written = {}  # marker number -> (payload kind, payload text, where)
        self.today = date.today()

    @property
    def texts(self):
        """marker number -> the payload as written"""
        return {n: text for n, (_kind, text, _where) in self.written.items()}

    def next_payload(self, maxlength, minlength, where, offset=0):
        for step in range(len(self.payloads)):
            payload = self.payloads[(self.counter + offset + step) % len(self.payloads)]
            self.counter += 1
            n = self.counter
            text = payload.render(n)
            if minlength and len(text) < minlength:
                text += " " + "Füllwort " * (minlength // 9 + 1)
            if maxlength is None or len(text) <= maxlength or payload.kind == "long":
                self.written[n] = (payload.kind, text, where)
                return n, text
        return None, None

    @staticmethod
    def _int(attrs, name):
        try:
            return int(attrs.get(name))
        except (TypeError, ValueError):
            return None

    def fallback(self, f, position, force=False):
        """A plain valid value for a field that takes no payload, or whose payload the app refused:
        the rendered value; empty when the field is optional; else a value of its format."""
        attrs = f.attrs
        kind = f.type
        if f.tag == "select":
            if force:  # refused twice (e.g. the same choice in every row): no choice, or another one
                values = [value for value, _selected, disabled in f.options if not disabled]
                return "" if "" in values else (values[position % len(values)] if values else "")
            return self.select_value(f)
        if kind == "password":
            return STRONG_PASSWORD
        if f.value.strip() and not force:
            return f.value
        if "required" not in attrs and not force:
            return ""
        self.counter += 1
        if kind == "email" or attrs.get("inputmode") == "email" or f.name.endswith("email"):
            return f"payload{self.counter}@example.org"
        if kind == "url" or attrs.get("inputmode") == "url" or f.name.endswith("url"):
            return "https://example.org/payload"
        if kind == "number" or attrs.get("inputmode") in ("numeric", "decimal"):
            if self._int(attrs, "maxlength") == 4:
                return str(self.today.year)
            return str(max(self._int(attrs, "min") or 1, 1))
        if kind == "date":
            return (self.today + timedelta(days=30 + position)).isoformat()
        if kind == "datetime-local":
            return (datetime.combine(self.today + timedelta(days=30), datetime.min.time())
                    + timedelta(hours=8 + position)).strftime("%Y-%m-%dT%H:%M")
        if kind == "time":
            return f"{min(8 + position, 23):02d}:00"
        if kind == "month":
            return self.today.strftime("%Y-%m")
        if kind == "color":
            return "#336699"
        return f"wert-{self.counter}"

    @staticmethod
    def select_value(f):
        """The selected option (the first one if none is); a required select's first real one
        instead of an empty placeholder."""
        usable = [(value, selected) for value, selected, disabled in f.options if not disabled]
        chosen = next((value for value, selected in usable if selected), usable[0][0] if usable else "")
        if not chosen and "required" in f.attrs:
            chosen = next((value for value, _selected in usable if value), "")
        return chosen

    def takes_payload(self, f):
        if f.tag == "textarea":
            return True
        if f.tag != "input" or f.name == HONEYPOT:
            return False
        if f.type not in TEXT_INPUT_TYPES:
            return False
        attrs = f.attrs
        if attrs.get("inputmode") in ("numeric", "decimal", "email") or f.name.endswith("email"):
            return False
        maxlength = self._int(attrs, "maxlength")
        return maxlength is None or maxlength >= 8

    def takes_url_payload(self, f):
        return f.tag == "input" and (f.type == "url" or f.attrs.get("inputmode") == "url")

    def fill(self, form, offset=0, where=""):
        """(data as a MultiDict, {field name: marker number}) for one submission."""
        data = MultiDict()
        markers = {}
        radios_done = set()
        buttons = [f for f in form.fields if f.type in ("submit", "image")]
        # The button that saves: WTForms calls it "submit"; others (preview, refresh) only re-render.
        button = next((f for f in buttons if f.name == "submit" or f.name.endswith("-submit")),
                      buttons[0] if buttons else None)
        if button is not None:
            data.add(button.name, button.value)
        for position, f in enumerate(form.fields):
            name = f.name
            if f.tag == "button" or f.type in ("submit", "image"):
                continue
            if f.tag == "input" and f.type in ("file", "reset", "button"):
                continue
            if f.tag == "input" and f.type == "hidden":
                data.add(name, f.value)
            elif name == HONEYPOT:
                data.add(name, "")
            elif f.tag == "input" and f.type == "checkbox":
                if f.checked or "required" in f.attrs:
                    data.add(name, f.value or "y")
            elif f.tag == "input" and f.type == "radio":
                if name in radios_done:
                    continue
                group = [g for g in form.fields if g.name == name and g.type == "radio"]
                chosen = next((g for g in group if g.checked), group[0])
                data.add(name, chosen.value)
                radios_done.add(name)
            elif f.tag == "select":
                if "multiple" in f.attrs:
                    for value, selected, _disabled in f.options:
                        if selected:
                            data.add(name, value)
                else:
                    data.add(name, self.select_value(f))
            elif self.takes_url_payload(f):
                self.counter += 1
                n = self.counter
                text = f"javascript:alert('xss{n}')"
                self.written[n] = ("javascript-url", text, f"{where} {name}")
                data.add(name, text)
                markers[name] = n
            elif self.takes_payload(f):
                n, text = self.next_payload(self._int(f.attrs, "maxlength"), self._int(f.attrs, "minlength"),
                                             f"{where} {name}", offset)
                if n is None:
                    data.add(name, self.fallback(f, position))
                else:
                    data.add(name, text)
                    markers[name] = n
            else:
                data.add(name, self.fallback(f, position))
        return data, markers

    def refill(self, form, data, invalid, refilled):
        """The same submission with plain values in the fields the app refused (a made-up value
        of the field's format if a plain one was refused already; `refilled` remembers)."""
        fixed = MultiDict()
        for position, f in enumerate(form.fields):
            if f.name in invalid and f.name in data and f.name not in fixed:
                fixed.setlist(f.name, [self.fallback(f, position, force=f.name in refilled)])
                refilled.add(f.name)
        for name, value in data.items(multi=True):
            if name not in fixed:
                fixed.add(name, value)
        return fixed


class _InvalidReader(HTMLParser):
    """Names of the fields a re-rendered form marks as refused: aria-invalid ones, and all
    fields inside a container with the class `field-error` (rows and groups of fields)."""

    VOID = {"input", "br", "img", "hr", "meta", "link", "area", "base", "col", "embed", "source", "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.names = set()
        self.stack = []  # (tag, inside an error container)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        inside = ((self.stack[-1][1] if self.stack else False)
                  or "field-error" in (attributes.get("class") or "").split())
        name = attributes.get("name")
        if tag in ("input", "textarea", "select") and name and (inside or attributes.get("aria-invalid") == "true"):
            self.names.add(name)
        if tag not in self.VOID:
            self.stack.append((tag, inside))

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break


def invalid_fields(html):
    reader = _InvalidReader()
    reader.feed(html)
    reader.close()
    return reader.names


# --- walking the app -----------------------------------------------------------------------------------

def endpoint_for(app, path):
    """(endpoint, view args) for a GET path, or (None, None)."""
    adapter = app.url_map.bind("localhost")
    try:
        return adapter.match(path, method="GET")
    except (HTTPException, RequestRedirect):
        return None, None


def local_path(link, base):
    """The site-internal path (with query) of a link, or None for other sites, anchors and schemes."""
    if not link or link.startswith("#"):
        return None
    parts = urlsplit(link)
    if parts.scheme not in ("", "http", "https") or parts.netloc not in ("", "localhost"):
        return None
    path = parts.path
    if not path.startswith("/"):
        base_path = urlsplit(base).path
        path = base_path.rsplit("/", 1)[0] + "/" + path
    return path + (f"?{parts.query}" if parts.query else "")
