"""The whole measure plan as a PDF: title page, table of contents, one section per field of
action and one sheet per measure, each on a new page.

    data = build_plan_pdf(progress=lambda done, total: ...)

The text is set in DejaVu Sans (vendored in fonts/ with its licence), so every German
and typographic character prints. Long fields are plain text: "**" and "*" emphasis
is dropped, lines starting with "- " become bullets. The table of contents gets its
page numbers at the end (fpdf2's ToC placeholder); its length is worked out before,
so the page numbers in the footers stay right.
"""
import re
from dataclasses import dataclass
from pathlib import Path

from babel.numbers import format_currency, format_decimal
from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from fpdf import FPDF
from fpdf.enums import MethodReturnValue, XPos, YPos
from fpdf.fonts import FontFace

from ..ideas import importing
from ..ideas.models import Sector
from ..extensions import db
from ..models import utcnow
from . import services
from .exchange import number_key, ordered_milestones, plan_measures
from .sheet import SECTIONS, fields_in

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FAMILY = "DejaVu"
LOCALE = "de_DE"
GREEN = (30, 86, 49)
GREY = (90, 90, 90)
LIGHT = (232, 240, 234)
LINE_HEIGHT = 5.0  # mm, body text at 10 pt
TOC_LINE = 5.5
TOC_PAGE_COLUMN = 14  # mm for the page numbers
TOC_INDENT = 6


def plan_name():
    """"Klimaschutzplan" and the city from the configuration (CITY_NAME), if there is one."""
    city = (current_app.config.get("CITY_NAME") or "").strip()
    return (_("Klimaschutzplan"), city)


# --- text -----------------------------------------------------------------------------------------

_BOLD = re.compile(r"(\*\*|__)(.+?)\1", re.DOTALL)
_EMPHASIS = re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])")
_BULLET = re.compile(r"^\s*(?:[-*•–]|\d+[.)])\s+(?P<text>.*)$")
_HEADING = re.compile(r"^\s*#{1,6}\s+")


def plain(text):
    """Markdown-ish emphasis and headings removed."""
    text = _BOLD.sub(r"\2", text or "")
    text = _EMPHASIS.sub(r"\1", text)
    return _HEADING.sub("", text)


def text_blocks(text):
    """[("paragraph" | "bullet", text)]: paragraphs split at blank lines, "- " lines as bullets."""
    blocks, paragraph = [], []

    def flush():
        if paragraph:
            blocks.append(("paragraph", "\n".join(paragraph)))
            paragraph.clear()

    for line in (text or "").replace("\r\n", "\n").split("\n"):
        bullet = _BULLET.match(line)
        if bullet and bullet.group("text").strip():
            flush()
            blocks.append(("bullet", plain(bullet.group("text").strip())))
        elif not line.strip():
            flush()
        else:
            paragraph.append(plain(line.strip()))
    flush()
    return blocks


def number_text(value):
    return format_decimal(value, locale=LOCALE, decimal_quantization=False)


def field_text(measure, sheet_field):
    """A field's value as the sheet prints it; "–" when empty."""
    value = getattr(measure, sheet_field.name)
    if value in (None, ""):
        return "–"
    kind = sheet_field.kind
    if kind == "choice":
        return str(sheet_field.choices[type(next(iter(sheet_field.choices)))(value)])
    if kind == "sector":
        return value.name
    if kind == "money":
        return format_currency(value, "EUR", locale=LOCALE)
    if kind == "percent":
        return f"{value} %"
    if kind == "decimal":
        return number_text(value)
    if kind == "date":
        return value.strftime("%d.%m.%Y")
    return str(value)


# --- the document ---------------------------------------------------------------------------------

class PlanPDF(FPDF):
    """A4 pages with a running header (plan and field of action) and "Seite x von y" in the footer."""

    def __init__(self, title, stand):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.add_font(FAMILY, "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font(FAMILY, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_margins(20, 22, 20)
        self.set_auto_page_break(True, margin=18)
        self.running_title = title
        self.running_section = ""
        self.stand = stand
        self.set_font(FAMILY, size=10)

    def header(self):
        if self.page == 1:
            return
        self.set_y(10)
        self.set_font(FAMILY, size=8)
        self.set_text_color(*GREY)
        self.cell(self.epw / 2, 5, self.running_title)
        self.cell(self.epw / 2, 5, self.running_section, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(*GREY)
        self.line(self.l_margin, 15.5, self.w - self.r_margin, 15.5)
        self.set_text_color(0, 0, 0)
        self.set_y(self.t_margin)

    def footer(self):
        if self.page == 1:
            return
        self.set_y(-13)
        self.set_font(FAMILY, size=8)
        self.set_text_color(*GREY)
        self.cell(self.epw / 2, 5, _("Stand: %(date)s", date=self.stand))
        self.cell(self.epw / 2, 5, _("Seite %(page)d von %(pages)s", page=self.page_no(),
                                     pages=self.str_alias_nb_pages), align="R")
        self.set_text_color(0, 0, 0)

    # building blocks

    def heading(self, text, size=12, space_before=4):
        self.ln(space_before)
        if self.will_page_break(size * 0.5 + 3 * LINE_HEIGHT):
            self.add_page()
        self.set_font(FAMILY, "B", size)
        self.set_text_color(*GREEN)
        self.multi_cell(0, size * 0.5, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0, 0, 0)
        self.set_font(FAMILY, size=10)
        self.ln(1.5)

    def paragraph(self, text, size=10):
        self.set_font(FAMILY, size=size)
        self.multi_cell(0, LINE_HEIGHT, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def long_text(self, text):
        blocks = text_blocks(text)
        if not blocks:
            self.paragraph("–")
            return
        previous = None
        for kind, content in blocks:
            if kind == "paragraph":
                if previous is not None:
                    self.ln(1.5)
                self.paragraph(content)
            else:
                if previous == "paragraph":
                    self.ln(1)
                self.bullet(content)
            previous = kind

    def bullet(self, text):
        self.set_font(FAMILY, size=10)
        if self.will_page_break(LINE_HEIGHT):
            self.add_page()
        self.set_x(self.l_margin + 2)
        self.cell(4, LINE_HEIGHT, "•")
        self.multi_cell(self.epw - 6, LINE_HEIGHT, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def label(self, text):
        if self.will_page_break(2 * LINE_HEIGHT):
            self.add_page()
        self.set_font(FAMILY, "B", 10)
        self.multi_cell(0, LINE_HEIGHT, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FAMILY, size=10)

    def grid(self, rows, col_widths, headings=None, aligns=None):
        """A table; `headings` is a row printed bold on a tinted background (repeated after page breaks)."""
        self.set_font(FAMILY, size=9)
        if self.will_page_break(3 * LINE_HEIGHT):
            self.add_page()
        heading_style = FontFace(family=FAMILY, emphasis="B", fill_color=LIGHT)
        with self.table(col_widths=col_widths, width=self.epw, line_height=4.6, text_align=aligns or "LEFT",
                        first_row_as_headings=headings is not None, headings_style=heading_style,
                        borders_layout="HORIZONTAL_LINES", padding=1.2) as table:
            if headings is not None:
                row = table.row()
                for text in headings:
                    row.cell(text)
            for cells in rows:
                row = table.row()
                for text in cells:
                    row.cell(text)
        self.set_font(FAMILY, size=10)
        self.ln(2)

    def facts(self, pairs):
        """A two-column table: field label (bold) and value."""
        self.set_font(FAMILY, size=9)
        if self.will_page_break(2 * LINE_HEIGHT):
            self.add_page()
        bold = FontFace(family=FAMILY, emphasis="B")
        with self.table(col_widths=(38, 62), width=self.epw, line_height=4.6, first_row_as_headings=False,
                        borders_layout="HORIZONTAL_LINES", padding=1.2) as table:
            for label, value in pairs:
                row = table.row()
                row.cell(label, style=bold)
                row.cell(value)
        self.set_font(FAMILY, size=10)
        self.ln(2)


# --- table of contents -----------------------------------------------------------------------------

@dataclass
class TocEntry:
    level: int
    text: str


def _toc_style(pdf, level):
    pdf.set_font(FAMILY, "B" if level == 0 else "", 11 if level == 0 else 10)


def _toc_text_width(pdf, level):
    return pdf.epw - TOC_PAGE_COLUMN - (TOC_INDENT if level else 0)


def _toc_height(pdf, entry):
    _toc_style(pdf, entry.level)
    lines = pdf.multi_cell(_toc_text_width(pdf, entry.level), TOC_LINE, entry.text, align="L",
                           dry_run=True, output=MethodReturnValue.LINES)
    return len(lines) * TOC_LINE + (2.5 if entry.level == 0 else 0.6)


TOC_HEADING_HEIGHT = 14


def plan_toc(pdf, entries, first_y):
    """Indexes of the entries that start a new page of the ToC, and the number of pages."""
    bottom = pdf.h - pdf.b_margin
    y, breaks = first_y + TOC_HEADING_HEIGHT, set()
    for index, entry in enumerate(entries):
        height = _toc_height(pdf, entry)
        if y + height > bottom and y > pdf.t_margin:
            breaks.add(index)
            y = pdf.t_margin
        y += height
    return breaks, len(breaks) + 1


def _toc_renderer(breaks):
    def render(pdf, outline):
        auto, margin = pdf.auto_page_break, pdf.b_margin
        pdf.set_auto_page_break(False)
        pdf.set_x(pdf.l_margin)
        pdf.set_font(FAMILY, "B", 16)
        pdf.set_text_color(*GREEN)
        pdf.cell(0, 10, _("Inhaltsverzeichnis"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)
        pdf.set_y(pdf.get_y() + TOC_HEADING_HEIGHT - 10)
        for index, section in enumerate(outline):
            if index in breaks:
                pdf.add_page()
            level = section.level
            if level == 0:
                pdf.ln(2.5)
            _toc_style(pdf, level)
            link = pdf.add_link(page=section.page_number)
            x = pdf.l_margin + (TOC_INDENT if level else 0)
            pdf.set_x(x)
            pdf.multi_cell(_toc_text_width(pdf, level), TOC_LINE, section.name, link=link,
                           align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            after = pdf.get_y()
            pdf.set_xy(pdf.w - pdf.r_margin - TOC_PAGE_COLUMN, after - TOC_LINE)
            pdf.cell(TOC_PAGE_COLUMN, TOC_LINE, str(section.page_number), align="R", link=link)
            pdf.set_xy(pdf.l_margin, after + (0.6 if level else 0))
        pdf.set_auto_page_break(auto, margin)

    return render


# --- the plan ---------------------------------------------------------------------------------------

def _sector_groups(measures):
    sectors = {sector.id: sector for sector in db.session.scalars(db.select(Sector))}
    groups = {}
    for measure in measures:
        groups.setdefault(measure.sector_id, []).append(measure)
    ordered = sorted(groups, key=lambda sector_id: (sectors[sector_id].position, sectors[sector_id].name))
    return [(sectors[sector_id], sorted(groups[sector_id], key=lambda m: number_key(m.number)))
            for sector_id in ordered]


def measure_heading(measure):
    return f"{measure.number} {measure.title}"


def build_plan_pdf(progress=None, *, compress=True, measures=None):
    """The PDF as bytes; `progress(done, total)` is called after every sheet."""
    measures = plan_measures() if measures is None else measures
    groups = _sector_groups(measures)
    title, city = plan_name()
    stand = utcnow().astimezone(importing.local_zone()).strftime("%d.%m.%Y")
    full_title = f"{title} {city}".strip()
    pdf = PlanPDF(f"{full_title} – {_('Maßnahmenplan')}", stand)
    pdf.set_compression(compress)
    pdf.set_title(f"{full_title} – {_('Maßnahmenplan')}")
    pdf.set_lang("de")
    pdf.set_subject(_("Maßnahmen des Klimaschutzplans mit Zielen, Kosten, Einsparungen und Indikatoren"))
    if city:
        pdf.set_author(city)
    pdf.set_creator(current_app.config.get("SITE_NAME") or full_title)
    pdf.set_keywords(_("Klimaschutz, Maßnahmenplan, Maßnahmenblätter"))

    _title_page(pdf, title, city, stand, measures, groups)
    pdf.add_page()
    entries = [TocEntry(level, text) for sector, items in groups
               for level, text in [(0, sector.name)] + [(1, measure_heading(m)) for m in items]]
    breaks, pages = plan_toc(pdf, entries, pdf.get_y())
    pdf.insert_toc_placeholder(_toc_renderer(breaks), pages=pages)

    total, done = len(measures), 0
    for sector, items in groups:
        pdf.running_section = sector.name
        if pdf.page_no() > 1 and pdf.get_y() > pdf.t_margin + 1:
            pdf.add_page()
        _sector_page(pdf, sector, items)
        for measure in items:
            pdf.add_page()
            _measure_sheet(pdf, measure)
            done += 1
            if progress is not None:
                progress(done, total)
    if not measures:
        pdf.paragraph(_("Der Maßnahmenplan enthält noch keine Maßnahmen."))
    return bytes(pdf.output())


def _title_page(pdf, title, city, stand, measures, groups):
    pdf.add_page()
    pdf.set_y(70)
    pdf.set_text_color(*GREEN)
    pdf.set_font(FAMILY, "B", 30)
    pdf.multi_cell(0, 14, title, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if city:
        pdf.set_font(FAMILY, "B", 20)
        pdf.multi_cell(0, 10, city, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    pdf.ln(6)
    pdf.set_font(FAMILY, size=15)
    pdf.multi_cell(0, 8, _("Maßnahmenplan"), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(12)
    pdf.set_font(FAMILY, size=11)
    pdf.multi_cell(0, 6, _("Stand: %(date)s", date=stand), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.multi_cell(0, 6, ngettext("%(num)d Maßnahme", "%(num)d Maßnahmen", len(measures)) + " · " +
                   ngettext("%(num)d Handlungsfeld", "%(num)d Handlungsfelder", len(groups)),
                   align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    site = current_app.config.get("SITE_NAME")
    if site:
        pdf.set_y(-40)
        pdf.set_font(FAMILY, size=9)
        pdf.set_text_color(*GREY)
        pdf.multi_cell(0, 5, site, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)


def _sector_page(pdf, sector, measures):
    pdf.start_section(sector.name, level=0)
    pdf.set_font(FAMILY, "B", 20)
    pdf.set_text_color(*GREEN)
    pdf.multi_cell(0, 10, sector.name, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    pdf.ln(2)
    if sector.description:
        pdf.paragraph(sector.description)
        pdf.ln(3)
    pdf.paragraph(ngettext("%(num)d Maßnahme in diesem Handlungsfeld:", "%(num)d Maßnahmen in diesem Handlungsfeld:",
                           len(measures)))
    pdf.ln(2)
    pdf.grid([(m.number, m.title, str(m.status_enum.label),
               str(m.priority_enum.label) if m.priority_enum else "–") for m in measures],
             col_widths=(14, 56, 18, 12), headings=(_("Nummer"), _("Titel"), _("Status"), _("Priorität")))


def _measure_sheet(pdf, measure):
    pdf.start_section(measure_heading(measure), level=1)
    pdf.set_font(FAMILY, "B", 11)
    pdf.set_text_color(*GREEN)
    pdf.cell(0, 6, measure.number, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "B", 16)
    pdf.multi_cell(0, 7.5, measure.title, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    pdf.ln(1)
    for section, section_label in SECTIONS.items():
        pdf.heading(str(section_label))
        short = [(str(f.label), field_text(measure, f)) for f in fields_in(section)
                 if f.kind != "long" and f.name not in ("number", "title")]
        if short:
            pdf.facts(short)
        if section == "effect":
            _savings(pdf, measure)  # the explanation belongs right beside the numbers
        for sheet_field in fields_in(section):
            if sheet_field.kind == "long":
                pdf.label(str(sheet_field.label))
                pdf.long_text(getattr(measure, sheet_field.name))
                pdf.ln(2)
        if section == "organisation":
            _milestones(pdf, measure)
        elif section == "state":
            _indicators(pdf, measure)
    _participation(pdf, measure)


def _milestones(pdf, measure):
    pdf.label(_("Meilensteine"))
    if not measure.milestones:
        pdf.paragraph(_("Keine Meilensteine angegeben."))
        pdf.ln(2)
        return
    pdf.grid([(m.due_on.strftime("%d.%m.%Y") if m.due_on else "–", m.title,
               m.done_on.strftime("%d.%m.%Y") if m.done_on else _("offen"))
              for m in ordered_milestones(measure.milestones)],
             col_widths=(18, 64, 18), headings=(_("Termin"), _("Meilenstein"), _("erledigt am")))


def _savings(pdf, measure):
    from .savings import carriers

    pdf.paragraph(services.savings_explanation(measure))
    pdf.ln(2)
    if measure.energy_savings:
        labels = carriers()
        rows = [(str(labels.get(row.carrier, row.carrier)), number_text(row.mwh_per_year))
                for row in measure.energy_savings]
        pdf.grid(rows, col_widths=(70, 30), headings=(_("Energieträger"), _("Endenergie (MWh/a)")),
                 aligns=("LEFT", "RIGHT"))


def _indicators(pdf, measure):
    pdf.label(_("Indikatoren"))
    if not measure.indicators:
        pdf.paragraph(_("Keine Indikatoren angegeben."))
        pdf.ln(2)
        return

    def value_year(value, year):
        if value is None and year is None:
            return "–"
        text = number_text(value) if value is not None else "–"
        return f"{text} ({year})" if year is not None else text

    rows = []
    for indicator in measure.indicators:
        actual = "; ".join(f"{item.year}: {number_text(item.value)}" + (f" ({item.note})" if item.note else "")
                           for item in indicator.values) or "–"
        rows.append((indicator.name, indicator.unit or "–", value_year(indicator.baseline_value,
                                                                        indicator.baseline_year),
                     value_year(indicator.target_value, indicator.target_year), actual))
    pdf.grid(rows, col_widths=(30, 11, 17, 17, 25),
             headings=(_("Indikator"), _("Einheit"), _("Basis (Jahr)"), _("Ziel (Jahr)"), _("Ist-Werte")))


def _participation(pdf, measure):
    ideas = services.linked_ideas(measure)
    pdf.heading(_("Aus der Beteiligung"))
    if not ideas:
        pdf.paragraph(_("Dieser Maßnahme sind noch keine Ideen aus der Beteiligung zugeordnet."))
        return
    pdf.paragraph(ngettext("%(num)d Idee ist in diese Maßnahme eingeflossen:",
                           "%(num)d Ideen sind in diese Maßnahme eingeflossen:", len(ideas)))
    pdf.ln(1)
    for idea, _link in ideas:
        pdf.bullet(_("%(title)s (Idee %(id)d)", title=idea.title, id=idea.id))


__all__ = ["build_plan_pdf", "plan_name", "text_blocks", "plain"]
