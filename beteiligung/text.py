"""User text on pages: a small Markdown subset, always through the sanitiser.

Authors may write paragraphs, line breaks, **bold**, *italic*, lists, `code` and
links. Raw HTML is shown as text (markdown-it with html=False), and nh3 then
removes anything outside the allowlist, so a bug in one layer is caught by the other.
"""
import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_markdown = (
    MarkdownIt("zero", {"html": False, "linkify": False, "typographer": False, "breaks": True})
    .enable(["emphasis", "list", "link", "newline", "paragraph", "backticks", "escape", "entity"])
)

ALLOWED_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a", "code"}
ALLOWED_ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}
ALLOWED_SCHEMES = {"http", "https", "mailto"}


def render_markdown(source):
    """Markdown subset to safe HTML (a Markup object for templates)."""
    html = _markdown.render(source or "")
    clean = nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=ALLOWED_SCHEMES,
                      link_rel="nofollow ugc noopener noreferrer")
    return Markup(clean)


def plain_excerpt(source, length=220):
    """A plain-text teaser of Markdown text for list pages (escaped by Jinja)."""
    text = " ".join((source or "").split())
    for mark in ("**", "__", "`"):
        text = text.replace(mark, "")
    if len(text) <= length:
        return text
    cut = text[:length].rsplit(" ", 1)[0]
    return cut + " …"
