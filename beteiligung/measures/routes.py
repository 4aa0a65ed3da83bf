"""Public pages of the measure plan: the catalogue, the overview per field of action, one
measure sheet with its origin in the participation, and the report "Was wurde aus den Ideen?"."""
import csv
import io

from flask import abort, current_app, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.routing import BuildError

from ..access import allow, may_open
from ..extensions import db
from ..forms import page_number
from ..ideas.models import STATUS_LABELS, Status
from ..ideas.services import active_sectors
from ..roles import EVERYONE
from . import bp, queries, savings
from .models import (MEASURE_STATUS_LABELS, MEASURE_TYPE_LABELS, PRIORITY_LABELS, Measure, MeasureIndicator,
                     SavingsMethod)
from .services import linked_ideas, savings_explanation
from .sheet import SECTIONS, display_value, fields_in

PER_PAGE = 50
DOWNLOAD_FORMATS = (("csv", "CSV"), ("xlsx", "Excel (XLSX)"), ("pdf", "PDF"))
# The idea statuses in the report, each with a colour of the chart palette (same hue as its badge).
IDEA_STATUS_COLOURS = {
    Status.SUBMITTED: "#4a5159", Status.IN_REVIEW: "#1c5aa6", Status.IN_MEASURE: "#0b6e4f",
    Status.ALREADY_DONE: "#00707a", Status.MERGED: "#6c45a6", Status.NOT_FEASIBLE: "#a65c1c",
    Status.OUT_OF_SCOPE: "#a4161a",
}


def _optional_url(endpoint, **values):
    """The URL of an endpoint another area provides, if it is installed and the visitor may open it."""
    if endpoint not in current_app.view_functions or not may_open(endpoint):
        return None
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def _downloads():
    return [(label, url) for fmt, label in DOWNLOAD_FORMATS
            if (url := _optional_url("measures.download", fmt=fmt)) is not None]


@bp.get("/")
@allow(EVERYONE)
def index():
    filters = queries.parse_filters(request.args)
    page = db.paginate(queries.catalogue_query(filters), page=page_number(), per_page=PER_PAGE, error_out=False)
    idea_counts = queries.visible_idea_counts([measure.id for measure in page.items])
    return render_template(
        "measures/index.html", page=page, filters=filters, idea_counts=idea_counts, sectors=active_sectors(),
        statuses=MEASURE_STATUS_LABELS, priorities=PRIORITY_LABELS, types=MEASURE_TYPE_LABELS,
        downloads=_downloads())


@bp.get("/handlungsfelder")
@allow(EVERYONE)
def overview():
    sectors, total = queries.sector_overview()
    return render_template("measures/overview.html", sectors=sectors, total=total,
                           statuses=MEASURE_STATUS_LABELS, downloads=_downloads())


def _load_measure(measure_id):
    measure = db.session.scalar(
        select(Measure).where(Measure.id == measure_id)
        .options(selectinload(Measure.milestones), selectinload(Measure.energy_savings),
                 selectinload(Measure.indicators).selectinload(MeasureIndicator.values)))
    if measure is None:
        abort(404)
    return measure


def indicator_series(indicator):
    """The lines of an indicator's chart: actual values, the path from baseline to target, the baseline."""
    actual = [(value.year, value.value) for value in indicator.values]
    series = []
    if actual:
        series.append({"label": _("Ist-Wert"), "points": actual, "line": "solid", "marker": "circle",
                       "colour": "#1c5aa6"})
    baseline, target = indicator.baseline_value, indicator.target_value
    years = [year for year, _value in actual] + [y for y in (indicator.baseline_year, indicator.target_year) if y]
    first, last = (min(years), max(years)) if years else (None, None)
    if target is not None:
        if indicator.target_year and baseline is not None and indicator.baseline_year:
            points = [(indicator.baseline_year, baseline), (indicator.target_year, target)]
        elif indicator.target_year:
            points = [(indicator.target_year, target)]
        else:  # a target without a year: a level across the chart
            points = [(first, target), (last, target)] if first is not None else []
        if points:
            series.append({"label": _("Zielwert"), "points": points, "line": "dashed", "marker": "diamond",
                           "colour": "#a4161a", "marker_at": [points[-1]]})
    if baseline is not None:
        if indicator.baseline_year:
            points = [(indicator.baseline_year, baseline)]
        else:
            points = [(first, baseline), (last, baseline)] if first is not None else []
        if points:
            series.append({"label": _("Ausgangswert"), "points": points,
                           "line": "none" if indicator.baseline_year else "dotted", "marker": "square",
                           "colour": "#4a5159"})
    return series


def indicator_rows(indicator):
    """The rows (year, kind, value, note) of an indicator's data table: baseline, actual values, target, by year.

    A baseline without a year comes first, a target without a year last.
    """
    rows = [((0, value.year, 1), value.year, _("Ist-Wert"), value.value, value.note) for value in indicator.values]
    if indicator.baseline_value is not None:
        year = indicator.baseline_year
        rows.append(((0, year, 0) if year else (-1, 0, 0), year, _("Ausgangswert"), indicator.baseline_value, ""))
    if indicator.target_value is not None:
        year = indicator.target_year
        rows.append(((0, year, 2) if year else (1, 0, 0), year, _("Zielwert"), indicator.target_value, ""))
    return [row[1:] for row in sorted(rows, key=lambda row: row[0])]


@bp.get("/<int:measure_id>")
@allow(EVERYONE)
def detail(measure_id):
    measure = _load_measure(measure_id)
    ideas = linked_ideas(measure)
    carriers = savings.carriers() if measure.savings_method == SavingsMethod.CARRIERS.value else None
    return render_template(
        "measures/detail.html", measure=measure, ideas=ideas, events=queries.events_of(idea for idea, _l in ideas),
        origins=queries.origins_for(measure),
        sections=[(key, label, fields_in(key)) for key, label in SECTIONS.items()],
        explanation=savings_explanation(measure), carriers=carriers,
        series={indicator.id: indicator_series(indicator) for indicator in measure.indicators},
        indicator_rows={indicator.id: indicator_rows(indicator) for indicator in measure.indicators},
        display_value=display_value,
        edit_url=_optional_url("measure_staff.edit", measure_id=measure.id))


def _status_series():
    return [{"key": status.value, "label": str(label), "colour": IDEA_STATUS_COLOURS[status]}
            for status, label in STATUS_LABELS.items()]


@bp.get("/was-wurde-aus-den-ideen")
@allow(EVERYONE)
def report():
    result = queries.participation_report()
    return render_template("measures/report.html", report=result, statuses=STATUS_LABELS,
                           series=_status_series(), csv_url=url_for("measures.report_csv"))


def _cell(value):
    """A spreadsheet-safe CSV cell (no formula injection through names of fields of action)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _percent(value):
    return "" if value is None else f"{value:.1f}".replace(".", ",")


@bp.get("/was-wurde-aus-den-ideen.csv")
@allow(EVERYONE)
def report_csv():
    result = queries.participation_report()
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([_("Handlungsfeld"), *[str(label) for label in STATUS_LABELS.values()], _("Ideen gesamt"),
                     _("davon in Maßnahmen eingeflossen"), _("Anteil in Maßnahmen (%)")])
    for row in [*result.rows, result.total]:
        writer.writerow([_cell(row.name), *[row.by_status.get(status.value, 0) for status in STATUS_LABELS],
                         row.ideas, row.in_measures, _percent(row.share_in_measures)])
    response = current_app.response_class("\ufeff" + buffer.getvalue(), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="was-wurde-aus-den-ideen.csv"'
    return response
