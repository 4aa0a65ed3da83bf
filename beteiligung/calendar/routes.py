"""The calendar page: all public dates by month, with a filter by kind and the feed address."""
from datetime import datetime, timedelta

from flask import render_template, request, url_for
from flask_babel import gettext as _

from ..access import allow
from ..events.models import EventKind
from ..roles import EVERYONE
from . import bp, dates
from . import ical  # noqa: F401  (registers the feed routes)

KIND_FILTERS = {"sitzungen": dates.MEETING, "werkstaetten": "workshop", "buergerveranstaltungen": "citizen_event"}
PERIODS = ("kommend", "vergangen")
MONTHS_AHEAD = 12


@bp.get("/termine/")
@allow(EVERYONE)
def index():
    kind_key = request.args.get("art", "")
    kinds = (KIND_FILTERS[kind_key],) if kind_key in KIND_FILTERS else dates.KINDS
    period = request.args.get("zeitraum", "kommend")
    period = period if period in PERIODS else "kommend"
    today = datetime.now(dates.LOCAL_ZONE).date()
    if period == "vergangen":
        since, until = dates.local_day_start(today - timedelta(days=dates.FEED_PAST_DAYS)), dates.local_day_start(today)
    else:
        since = dates.local_day_start(today)
        until = dates.local_day_start(today.replace(day=1) + timedelta(days=31 * MONTHS_AHEAD))
    items = dates.public_dates(since=since, until=until, kinds=kinds)
    if period == "vergangen":
        items.reverse()
    return render_template(
        "calendar/index.html", groups=dates.month_groups(items), count=len(items), kind_key=kind_key,
        period=period, kind_labels={"sitzungen": _label("meeting"), "werkstaetten": _label("workshop"),
                                    "buergerveranstaltungen": _label("citizen_event")},
        feed_url=url_for("calendar.public_feed", _external=True),
        webcal_url=url_for("calendar.public_feed", _external=True).replace("https://", "webcal://", 1)
        .replace("http://", "webcal://", 1))


def _label(kind):
    if kind == dates.MEETING:
        return _("Sitzungen der Gremien")
    return {EventKind.WORKSHOP.value: _("Themenwerkstätten"),
            EventKind.CITIZEN_EVENT.value: _("Bürgerveranstaltungen")}[kind]
