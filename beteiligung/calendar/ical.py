"""iCalendar feeds (RFC 5545) built with the `icalendar` package.

Every date becomes one VEVENT with the row's stable UID and SEQUENCE, DTSTART/DTEND in
local time with TZID=Europe/Berlin (described by one VTIMEZONE), SUMMARY, LOCATION (the
place, else the online link), URL, DESCRIPTION and STATUS (CONFIRMED or CANCELLED). A moved
date keeps its UID and gets a higher SEQUENCE, so calendar programs update the entry
instead of adding a second one; a cancelled date stays in the feed with STATUS:CANCELLED
for a while, so subscribers see the cancellation.

Routes: /termine.ics (public), /termine/gremium/<token>.ics (a body's dates for its
members, Body.feed_token) and /termine/mein/<token>.ics (a person's registrations and
meetings, User.calendar_token). The token is the secret: the token feeds are open to
everyone who knows the address, answer 404 for unknown tokens, are cached only privately
and send no Referer onwards.
"""
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from flask import abort, current_app, url_for
from flask_babel import gettext as _
from icalendar import Calendar, Event as VEvent, Timezone, TimezoneDaylight, TimezoneStandard
from icalendar.prop import vDuration, vRecur
from sqlalchemy import select

from ..access import allow
from ..auth.models import User
from ..extensions import db
from ..meetings.models import Body
from ..models import utcnow
from ..roles import EVERYONE
from . import bp, dates

TZID = "Europe/Berlin"
PRODID = "-//Klima-Beteiligung//Termine//DE"
REFRESH = timedelta(hours=1)
CONTENT_TYPE = "text/calendar; charset=utf-8"


def berlin_timezone():
    """VTIMEZONE for Europe/Berlin with the EU rules (since 1996): CEST from the last Sunday in
    March 02:00, CET from the last Sunday in October 03:00."""
    zone = Timezone()
    zone.add("tzid", TZID)
    zone.add("x-lic-location", TZID)
    summer = TimezoneDaylight()
    summer.add("tzname", "CEST")
    summer.add("tzoffsetfrom", _offset(1))
    summer.add("tzoffsetto", _offset(2))
    summer.add("dtstart", datetime(1970, 3, 29, 2, 0, 0))
    summer.add("rrule", vRecur(freq="YEARLY", bymonth=3, byday="-1SU"))
    winter = TimezoneStandard()
    winter.add("tzname", "CET")
    winter.add("tzoffsetfrom", _offset(2))
    winter.add("tzoffsetto", _offset(1))
    winter.add("dtstart", datetime(1970, 10, 25, 3, 0, 0))
    winter.add("rrule", vRecur(freq="YEARLY", bymonth=10, byday="-1SU"))
    zone.add_component(summer)
    zone.add_component(winter)
    return zone


def _offset(hours):
    return timedelta(hours=hours)


def _description(item, url):
    lines = []
    if item.cancelled:
        lines.append(_("ABGESAGT") + (f": {item.cancel_reason}" if item.cancel_reason else ""))
    if item.moved_from is not None:
        lines.append(_("Verschoben, ursprünglich am %(when)s.",
                       when=item.moved_from.astimezone(dates.LOCAL_ZONE).strftime("%d.%m.%Y, %H:%M Uhr")))
    if item.registration_status == "waiting":
        lines.append(_("Sie stehen auf der Warteliste. Rücken Sie nach, erhalten Sie eine Nachricht."))
    elif item.registration_status == "confirmed":
        lines.append(_("Sie sind angemeldet."))
    lines.append(item.organiser or item.kind_label)
    if item.topic:
        lines.append(_("Thema: %(topic)s", topic=item.topic))
    if item.facilitator:
        lines.append(_("Moderation: %(name)s", name=item.facilitator))
    if item.place and item.online_url:
        lines.append(_("Online: %(url)s", url=item.online_url))
    if item.summary:
        lines.append("")
        lines.append(item.summary)
    if item.agenda:
        lines.append("")
        lines.append(_("Tagesordnung:"))
        lines += [f"{number}. {title}" for number, title in enumerate(item.agenda, start=1)]
    if url:
        lines.append("")
        lines.append(url)
    return "\n".join(lines)


def vevent(item, stamp):
    """One VEVENT for a CalendarDate."""
    url = item.url(external=True) or url_for("calendar.index", _external=True) + f"#{item.anchor}"
    entry = VEvent()
    entry.add("uid", item.uid)
    entry.add("dtstamp", stamp)
    entry.add("dtstart", item.local_start)
    entry.add("dtend", item.local_end)
    entry.add("summary", item.title)
    location = item.place or item.online_url
    if location:
        entry.add("location", location)
    entry.add("url", url)
    entry.add("description", _description(item, url))
    entry.add("sequence", item.sequence)
    entry.add("status", "CANCELLED" if item.cancelled else "CONFIRMED")
    entry.add("transp", "TRANSPARENT" if item.cancelled else "OPAQUE")
    entry.add("categories", [item.kind_label])
    return entry


def build_feed(items, name, *, now=None):
    """The whole VCALENDAR as bytes."""
    stamp = (now or utcnow()).astimezone(timezone.utc).replace(microsecond=0)
    feed = Calendar()
    feed.add("prodid", PRODID)
    feed.add("version", "2.0")
    feed.add("calscale", "GREGORIAN")
    feed.add("method", "PUBLISH")
    feed.add("x-wr-calname", name)
    feed.add("x-wr-timezone", TZID)
    feed.add("x-published-ttl", vDuration(REFRESH))
    feed.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    feed.add_component(berlin_timezone())
    for item in items:
        feed.add_component(vevent(item, stamp))
    return feed.to_ical()


def feed_response(body, *, private, filename):
    response = current_app.response_class(body, mimetype="text/calendar")
    response.headers["Content-Type"] = CONTENT_TYPE
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    if private:
        # The address is the secret: shared caches must not keep it and nothing may pass it on.
        response.headers["Cache-Control"] = "private, max-age=300"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    else:
        response.headers["Cache-Control"] = "public, max-age=300"
    return response


# --- routes ------------------------------------------------------------------------------------------

@bp.get("/termine.ics")
@allow(EVERYONE)
def public_feed():
    name = _("Termine – %(site)s %(city)s", site=current_app.config["SITE_NAME"], city=current_app.config["CITY_NAME"])
    # The meeting pages show the online link only to members and staff; so does the public feed.
    items = [replace(item, online_url="") if item.kind == "meeting" else item for item in dates.public_dates(feed=True)]
    return feed_response(build_feed(items, name), private=False, filename="termine.ics")


@bp.get("/termine/gremium/<token>.ics")
@allow(EVERYONE)
def body_feed(token):
    body = db.session.scalar(select(Body).where(Body.feed_token == token)) if token else None
    if body is None:
        abort(404)
    name = _("Termine – %(body)s", body=body.name)
    return feed_response(build_feed(dates.body_dates(body), name), private=True, filename="gremium.ics")


@bp.get("/termine/mein/<token>.ics")
@allow(EVERYONE)
def user_feed(token):
    user = db.session.scalar(select(User).where(User.calendar_token == token, User.deleted_at.is_(None))) \
        if token else None
    if user is None:
        abort(404)
    name = _("Meine Termine – %(site)s", site=current_app.config["SITE_NAME"])
    return feed_response(build_feed(dates.user_dates(user), name), private=True, filename="meine-termine.ics")
