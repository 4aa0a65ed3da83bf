"""Public pages of the measure plan: the catalogue and one measure with its origin in the participation."""
from flask import abort, render_template, request
from sqlalchemy import select

from ..access import allow
from ..extensions import db
from ..forms import page_number
from ..ideas.services import active_sectors, find_sector
from ..roles import EVERYONE
from . import bp
from .models import MEASURE_STATUS_LABELS, Measure, MeasureStatus
from .services import linked_ideas

PER_PAGE = 50


@bp.get("/")
@allow(EVERYONE)
def index():
    query = select(Measure).order_by(Measure.number)
    sector = find_sector((request.args.get("sector") or "").strip()) if request.args.get("sector") else None
    status = request.args.get("status") if request.args.get("status") in {s.value for s in MeasureStatus} else None
    if sector is not None:
        query = query.where(Measure.sector_id == sector.id)
    if status:
        query = query.where(Measure.status == status)
    page = db.paginate(query, page=page_number(), per_page=PER_PAGE, error_out=False)
    return render_template("measures/index.html", page=page, sectors=active_sectors(), sector=sector,
                           status=status, statuses=MEASURE_STATUS_LABELS)


@bp.get("/<int:measure_id>")
@allow(EVERYONE)
def detail(measure_id):
    measure = db.session.get(Measure, measure_id) or abort(404)
    return render_template("measures/detail.html", measure=measure, ideas=linked_ideas(measure))
