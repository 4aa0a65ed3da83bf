"""The rules of the bodies: members, meeting dates from series, agendas, materials and minutes.

Functions here change the session and never commit; the request (or CLI command, or the
demo) commits once. Wrong input raises `MeetingError` with a German message (and the
form field it belongs to), before anything is changed.

Times: `MeetingSeries.first_start_local` and the recurrence rule are local time
(Europe/Berlin), so a meeting at 17:00 stays at 17:00 in winter and in summer; every
`Meeting` row stores UTC. Each change of a date's time, place, link or status raises its
`sequence`, which the calendar feeds export (RFC 5545).
"""
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from flask import has_request_context, url_for
from flask_babel import format_date, format_datetime
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from ..audit.services import record
from ..auth.models import User
from ..extensions import db
from ..ideas.models import Idea
from ..measures import queries as measure_queries
from ..measures.models import Measure
from ..models import utcnow
from ..roles import Role
from .models import (NAME_MAX, PLACE_MAX, RRULE_MAX, TITLE_MAX, URL_MAX, ActionItem, ActionStatus, AgendaItem,
                     AgendaMaterial, AgendaStatus, Attendance, AttendanceStatus, Body, BodyKind, BodyMember,
                     Meeting, MeetingSeries, MeetingStatus, agenda_item_measures, new_feed_token, new_uid)

BERLIN = ZoneInfo("Europe/Berlin")
HORIZON_DAYS = 365  # series are materialised 12 months ahead unless told otherwise
MAX_HORIZON_DAYS = 3 * 365
MAX_OCCURRENCES = 500  # per expansion
FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
RULE_PARTS = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS", "BYWEEKNO",
              "BYYEARDAY", "WKST"}
TIME_PARTS = {"BYHOUR", "BYMINUTE", "BYSECOND"}
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
RESERVED_SLUGS = {"sitzung", "material", "neu", "feed", "termine"}
DESCRIPTION_MAX = 5000
MINUTES_TEXT_MAX = 10000
ROLE_MAX = 80
DURATION_MAX = 600
MATERIAL_MAX_BYTES = 10 * 1024 * 1024
MAX_LINKS = 50

STAFF_VIEW, MEMBER_VIEW, PUBLIC_VIEW = "staff", "member", "public"


class MeetingError(Exception):
    """Wrong input for a body, a date, an agenda or the minutes (German message)."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


# --- time ----------------------------------------------------------------------------------------

def to_utc(local):
    """A naive Europe/Berlin wall-clock time as an aware UTC time."""
    return local.replace(tzinfo=BERLIN).astimezone(timezone.utc)


def to_local(moment):
    """An aware time in Europe/Berlin."""
    return moment.astimezone(BERLIN)


def local_date(moment):
    return to_local(moment).date()


def today_local(now=None):
    return local_date(now or utcnow())


def _end_of_local_day(day):
    return to_utc(datetime.combine(day, time(23, 59, 59)))


def format_day(moment):
    return format_date(to_local(moment).date(), "dd.MM.yyyy")


# --- recurrence rules ----------------------------------------------------------------------------

EXAMPLE_RULE = "FREQ=MONTHLY;BYDAY=2TU"


def _rule_parts(value):
    parts = {}
    for chunk in value.split(";"):
        key, sep, part = chunk.partition("=")
        if not sep or not key or not part:
            raise MeetingError(_("Die Wiederholungsregel ist ungültig: „%(part)s“ hat nicht die Form NAME=WERT. "
                                 "Beispiel: %(example)s (jeden zweiten Dienstag im Monat).",
                                 part=chunk[:40], example=EXAMPLE_RULE), "rule")
        if key in TIME_PARTS:
            raise MeetingError(_("„%(part)s“ ist in der Wiederholungsregel nicht erlaubt: die Uhrzeit ergibt sich "
                                 "aus dem Beginn.", part=key), "rule")
        if key not in RULE_PARTS:
            raise MeetingError(_("Unbekannter Bestandteil „%(part)s“ in der Wiederholungsregel.", part=key[:40]),
                               "rule")
        if key in parts:
            raise MeetingError(_("„%(part)s“ steht zweimal in der Wiederholungsregel.", part=key), "rule")
        parts[key] = part
    if parts.get("FREQ") not in FREQUENCIES:
        raise MeetingError(_("Erlaubt sind tägliche, wöchentliche, monatliche und jährliche Wiederholungen "
                             "(FREQ=DAILY, WEEKLY, MONTHLY oder YEARLY)."), "rule")
    if "COUNT" in parts and "UNTIL" in parts:
        raise MeetingError(_("Eine Wiederholungsregel hat entweder COUNT oder UNTIL, nicht beides."), "rule")
    if "COUNT" in parts and (not parts["COUNT"].isdigit() or not 1 <= int(parts["COUNT"]) <= MAX_OCCURRENCES):
        raise MeetingError(_("COUNT muss eine Zahl von 1 bis %(max)d sein.", max=MAX_OCCURRENCES), "rule")
    if "INTERVAL" in parts and (not parts["INTERVAL"].isdigit() or not 1 <= int(parts["INTERVAL"]) <= 99):
        raise MeetingError(_("INTERVAL muss eine Zahl von 1 bis 99 sein."), "rule")
    return parts


def normalise_rule(text):
    """The RRULE value as stored (upper case, without "RRULE:" and blanks), checked; MeetingError if invalid."""
    if any(char in (text or "") for char in "\r\n"):
        raise MeetingError(_("Bitte geben Sie genau eine Wiederholungsregel in einer Zeile an (ohne DTSTART)."),
                           "rule")
    value = "".join((text or "").split()).upper()
    if value.startswith("RRULE:"):
        value = value[len("RRULE:"):]
    if not value:
        raise MeetingError(_("Bitte geben Sie eine Wiederholungsregel an, zum Beispiel %(example)s.",
                             example=EXAMPLE_RULE), "rule")
    if len(value) > RRULE_MAX:
        raise MeetingError(_("Die Wiederholungsregel ist zu lang (höchstens %(max)d Zeichen).", max=RRULE_MAX),
                           "rule")
    parts = _rule_parts(value)
    build_rule(value, datetime(2025, 1, 1, 17, 0))  # raises on values dateutil cannot read
    _check_not_empty(parts)
    return value


def _check_not_empty(parts):
    """Refuse rules that never meet (BYMONTH=2;BYMONTHDAY=30).

    dateutil looks for a match period by period up to the year 9999 before it gives up, which
    takes seconds for a daily rule. The same filters as a yearly rule (weekdays without their
    ordinal, so the probe matches at least the days the rule does) answer in a fraction of that.
    """
    if parts["FREQ"] in ("DAILY", "WEEKLY") and "BYSETPOS" in parts:
        raise MeetingError(_("BYSETPOS ist nur bei monatlichen und jährlichen Regeln möglich."), "rule")
    filters = {key: part for key, part in parts.items() if key in ("BYMONTH", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO")}
    if not filters or "BYSETPOS" in parts:
        return
    if "BYDAY" in parts:
        filters["BYDAY"] = ",".join(day[-2:] for day in parts["BYDAY"].split(","))
    probe = rrulestr("FREQ=YEARLY;" + ";".join(f"{key}={part}" for key, part in filters.items()),
                     dtstart=datetime(2000, 1, 1))
    if probe.after(datetime(2000, 1, 1), inc=True) is None:
        raise MeetingError(_("Die Wiederholungsregel ergibt keinen einzigen Termin. Bitte prüfen Sie Monat, Tag "
                             "und Wochentag."), "rule")


def build_rule(value, first_start_local):
    """The dateutil rule for a stored RRULE value and a naive local DTSTART.

    An UNTIL in UTC (with Z, as RFC 5545 wants it for zoned dates) becomes local time,
    because the rule runs on naive local times.
    """
    parts = _rule_parts(value)
    until = parts.get("UNTIL")
    try:
        if until and until.endswith("Z"):
            moment = datetime.strptime(until, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
            parts["UNTIL"] = to_local(moment).strftime("%Y%m%dT%H%M%S")
        return rrulestr(";".join(f"{key}={part}" for key, part in parts.items()), dtstart=first_start_local)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError):
        raise MeetingError(_("Die Wiederholungsregel „%(rule)s“ ist ungültig (RFC 5545). Beispiel: %(example)s "
                             "(jeden zweiten Dienstag im Monat).", rule=value[:80], example=EXAMPLE_RULE),
                           "rule") from None


def _bounded(rule, horizon_local):
    """The rule ending at the horizon at the latest, so that rules without matches (BYMONTHDAY=30;BYMONTH=2)
    do not scan to the year 9999."""
    if getattr(rule, "_count", None) is not None:
        return rule
    own_until = getattr(rule, "_until", None)
    return rule.replace(until=min(own_until, horizon_local) if own_until else horizon_local)


def occurrence_starts(value, first_start_local, until):
    """The UTC starts of a rule's occurrences up to `until` (aware), at most MAX_OCCURRENCES."""
    horizon = to_local(until).replace(tzinfo=None)
    rule = _bounded(build_rule(value, first_start_local), horizon)
    starts = []
    for local in rule:
        if local > horizon:
            break
        if len(starts) == MAX_OCCURRENCES:
            raise MeetingError(_("Die Regel ergibt bis %(until)s mehr als %(max)d Termine. Bitte wählen Sie einen "
                                 "kürzeren Zeitraum oder einen späteren Beginn.",
                                 until=format_date(horizon.date(), "dd.MM.yyyy"), max=MAX_OCCURRENCES), "rule")
        starts.append(to_utc(local))
    return starts


def preview_starts(value, first_start_local, count=10, now=None):
    """The next `count` starts of a rule from now (or from its first date, if later): the preview before saving."""
    after = max(to_local(now or utcnow()).replace(tzinfo=None, microsecond=0), first_start_local)
    rule = _bounded(build_rule(value, first_start_local), after + timedelta(days=MAX_HORIZON_DAYS))
    return [to_utc(local) for local in rule.xafter(after, count=count, inc=True)]


def builder_rule(frequency, weekday, ordinal=None, interval=1):
    """The RRULE of the simple builder: monthly on the n-th (or last) weekday, or weekly on a weekday."""
    if weekday not in WEEKDAYS:
        raise MeetingError(_("Bitte wählen Sie einen Wochentag."), "weekday")
    if frequency == "MONTHLY":
        if ordinal not in (1, 2, 3, 4, -1):
            raise MeetingError(_("Bitte wählen Sie, am wievielten Wochentag des Monats."), "ordinal")
        return f"FREQ=MONTHLY;BYDAY={ordinal}{weekday}"
    if frequency == "WEEKLY":
        if not 1 <= (interval or 1) <= 4:
            raise MeetingError(_("Bitte wählen Sie, wie oft."), "interval")
        return f"FREQ=WEEKLY;BYDAY={weekday}" + (f";INTERVAL={interval}" if interval and interval > 1 else "")
    raise MeetingError(_("Bitte wählen Sie monatlich oder wöchentlich."), "frequency")


_WEEKDAY_NAMES = {"MO": "Montag", "TU": "Dienstag", "WE": "Mittwoch", "TH": "Donnerstag", "FR": "Freitag",
                  "SA": "Samstag", "SU": "Sonntag"}
_ORDINALS = {"1": "ersten", "2": "zweiten", "3": "dritten", "4": "vierten", "-1": "letzten"}
_SIMPLE_MONTHLY = re.compile(r"^FREQ=MONTHLY;BYDAY=(-1|[1-4])(MO|TU|WE|TH|FR|SA|SU)$")
_SIMPLE_WEEKLY = re.compile(r"^FREQ=WEEKLY;BYDAY=(MO|TU|WE|TH|FR|SA|SU)(?:;INTERVAL=([1-4]))?$")


def describe_rule(value):
    """A German description of the builder's rules ("jeden zweiten Dienstag im Monat"); else the rule itself."""
    match = _SIMPLE_MONTHLY.match(value or "")
    if match:
        return _("jeden %(ordinal)s %(weekday)s im Monat", ordinal=_(_ORDINALS[match.group(1)]),
                 weekday=_(_WEEKDAY_NAMES[match.group(2)]))
    match = _SIMPLE_WEEKLY.match(value or "")
    if match:
        interval = int(match.group(2) or 1)
        weekday = _(_WEEKDAY_NAMES[match.group(1)])
        if interval == 1:
            return _("jeden %(weekday)s", weekday=weekday)
        return _("jeden %(weekday)s alle %(num)d Wochen", weekday=weekday, num=interval)
    return value


# --- bodies --------------------------------------------------------------------------------------

def slugify(name):
    value = (name or "").lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", value).strip("-")[:64].strip("-")


def _text(value, maximum, label, field, *, required=False):
    value = (value or "").strip()
    if required and not value:
        raise MeetingError(_("Bitte geben Sie %(label)s an.", label=label), field)
    if len(value) > maximum:
        raise MeetingError(_("Höchstens %(max)d Zeichen.", max=maximum), field)
    return value


def _web_address(value, field="online_url"):
    value = (value or "").strip()
    if value and (not re.match(r"^https?://[^\s/]+", value, re.IGNORECASE) or len(value) > URL_MAX):
        raise MeetingError(_("Bitte geben Sie eine Webadresse an, die mit https:// oder http:// beginnt "
                             "(höchstens %(max)d Zeichen).", max=URL_MAX), field)
    return value


def _changes(obj, values):
    """Set the attributes that differ; returns (old, new) dicts of the changed ones (for the audit log)."""
    old, new = {}, {}
    for name, value in values.items():
        if getattr(obj, name) != value:
            old[name], new[name] = getattr(obj, name), value
            setattr(obj, name, value)
    return old, new


def _json(values):
    return {key: (value.isoformat() if isinstance(value, (date, datetime)) else value)
            for key, value in values.items()}


def save_body(body, actor, *, name, slug, kind, description, public, agenda_lead_days, proposal_deadline_days):
    """Create (body None) or update a body; returns it (flushed)."""
    name = _text(name, NAME_MAX, _("einen Namen"), "name", required=True)
    slug = (slug or "").strip().lower() or slugify(name)
    if not SLUG.match(slug) or len(slug) > 64:
        raise MeetingError(_("Die Kurzadresse darf nur Kleinbuchstaben, Ziffern und Bindestriche enthalten "
                             "(höchstens 64 Zeichen), zum Beispiel „arbeitskreis-klimaschutz“."), "slug")
    if slug in RESERVED_SLUGS:
        raise MeetingError(_("Die Kurzadresse „%(slug)s“ ist reserviert. Bitte wählen Sie eine andere.", slug=slug),
                           "slug")
    if kind not in {member.value for member in BodyKind}:
        raise MeetingError(_("Bitte wählen Sie die Art des Gremiums."), "kind")
    description = _text(description, DESCRIPTION_MAX, _("eine Beschreibung"), "description")
    for value, low, high, field in ((agenda_lead_days, 0, 60, "agenda_lead_days"),
                                    (proposal_deadline_days, 0, 90, "proposal_deadline_days")):
        if not isinstance(value, int) or not low <= value <= high:
            raise MeetingError(_("Bitte eine ganze Zahl von %(min)d bis %(max)d.", min=low, max=high), field)
    others = select(Body.id)
    if body is not None:
        others = others.where(Body.id != body.id)
    if db.session.scalar(others.where(func.lower(Body.name) == name.lower()).limit(1)):
        raise MeetingError(_("Ein Gremium mit diesem Namen gibt es schon."), "name")
    if db.session.scalar(others.where(Body.slug == slug).limit(1)):
        raise MeetingError(_("Die Kurzadresse „%(slug)s“ ist schon vergeben.", slug=slug), "slug")
    values = {"name": name, "slug": slug, "kind": kind, "description": description, "public": bool(public),
              "agenda_lead_days": agenda_lead_days, "proposal_deadline_days": proposal_deadline_days}
    if body is None:
        body = Body(feed_token=new_feed_token(), **values)
        db.session.add(body)
        db.session.flush()
        record("body.created", body, actor=actor, new=values)
        return body
    old, new = _changes(body, values)
    if new:
        db.session.flush()
        record("body.updated", body, actor=actor, old=old, new=new)
    return body


def regenerate_feed_token(body, actor):
    """A new secret for the members' calendar feed; the old address stops working."""
    body.feed_token = new_feed_token()
    record("body.feed_token_renewed", body, actor=actor)
    return body.feed_token


# --- members -------------------------------------------------------------------------------------

def active_members(body, day=None):
    """The members of a body on `day` (default today, Europe/Berlin), by organisation and name."""
    day = day or today_local()
    return db.session.scalars(
        select(BodyMember).where(BodyMember.body_id == body.id, BodyMember.from_date <= day,
                                 or_(BodyMember.to_date.is_(None), BodyMember.to_date >= day))
        .options(selectinload(BodyMember.user))
        .order_by(BodyMember.organisation, BodyMember.name, BodyMember.id)).all()


def membership(body, user, day=None):
    """The user's active membership in the body, or None."""
    if user is None or not getattr(user, "is_authenticated", False) or getattr(user, "id", None) is None:
        return None
    day = day or today_local()
    return db.session.scalar(
        select(BodyMember).where(BodyMember.body_id == body.id, BodyMember.user_id == user.id,
                                 BodyMember.from_date <= day,
                                 or_(BodyMember.to_date.is_(None), BodyMember.to_date >= day)).limit(1))


def is_staff(user):
    return bool(user is not None and getattr(user, "is_authenticated", False)
                and user.role in (Role.STAFF.value, Role.ADMIN.value))


def access_level(body, user):
    """STAFF_VIEW, MEMBER_VIEW, PUBLIC_VIEW, or None when the user may not see the body at all."""
    if is_staff(user):
        return STAFF_VIEW
    if membership(body, user) is not None:
        return MEMBER_VIEW
    return PUBLIC_VIEW if body.public else None


def visible_bodies(user):
    """The bodies a user sees: public ones, the internal ones they belong to, all for staff."""
    query = select(Body).order_by(Body.name)
    if not is_staff(user):
        conditions = [Body.public.is_(True)]
        if user is not None and getattr(user, "is_authenticated", False):
            day = today_local()
            conditions.append(Body.id.in_(
                select(BodyMember.body_id).where(BodyMember.user_id == user.id, BodyMember.from_date <= day,
                                                 or_(BodyMember.to_date.is_(None), BodyMember.to_date >= day))))
        query = query.where(or_(*conditions))
    return db.session.scalars(query).all()


def _member_values(name, organisation, role, from_date, to_date):
    name = _text(name, NAME_MAX, _("einen Namen"), "name", required=True)
    organisation = _text(organisation, TITLE_MAX, "", "organisation")
    role = _text(role, ROLE_MAX, "", "role")
    if from_date is None:
        raise MeetingError(_("Bitte geben Sie an, seit wann die Person Mitglied ist."), "from_date")
    if to_date is not None and to_date < from_date:
        raise MeetingError(_("Das Ende der Mitgliedschaft darf nicht vor ihrem Beginn liegen."), "to_date")
    return {"name": name, "organisation": organisation, "role": role, "from_date": from_date, "to_date": to_date}


def _account_for(email, body, member=None):
    email = (email or "").strip().lower()
    if not email:
        return None
    user = db.session.scalar(select(User).where(User.email == email, User.deleted_at.is_(None)))
    if user is None:
        raise MeetingError(_("Zu dieser E-Mail-Adresse gibt es kein Konto. Die Person kann sich selbst "
                             "registrieren; danach können Sie das Konto verknüpfen."), "email")
    query = select(BodyMember.id).where(BodyMember.body_id == body.id, BodyMember.user_id == user.id,
                                        or_(BodyMember.to_date.is_(None), BodyMember.to_date >= today_local()))
    if member is not None:
        query = query.where(BodyMember.id != member.id)
    if db.session.scalar(query.limit(1)):
        raise MeetingError(_("Dieses Konto ist bereits mit einem Mitglied dieses Gremiums verknüpft."), "email")
    return user


def add_member(body, actor, *, name, organisation="", role="", from_date=None, to_date=None, email=""):
    """Add a person to a body; with `email` the account with that address is linked."""
    values = _member_values(name, organisation, role, from_date or today_local(), to_date)
    user = _account_for(email, body)
    member = BodyMember(body=body, user_id=getattr(user, "id", None), **values)
    db.session.add(member)
    db.session.flush()
    record("body.member_added", body, actor=actor, new={**_json(values), "member_id": member.id,
                                                        "account": user is not None})
    return member


def update_member(member, actor, *, name, organisation, role, from_date, to_date, email=None, unlink=False):
    """Change a membership; ending it means setting `to_date`. `email` links an account, `unlink` removes it."""
    values = _member_values(name, organisation, role, from_date, to_date)
    if unlink:
        values["user_id"] = None
    elif email:
        values["user_id"] = _account_for(email, member.body, member).id
    old, new = _changes(member, values)
    if new:
        record("body.member_updated", member.body, actor=actor, old={**_json(old), "member_id": member.id},
               new={**_json(new), "member_id": member.id})
    return member


# --- series and dates ----------------------------------------------------------------------------

def _duration(value, field="duration_minutes", low=5, high=1440):
    if not isinstance(value, int) or not low <= value <= high:
        raise MeetingError(_("Bitte eine Dauer von %(min)d bis %(max)d Minuten.", min=low, max=high), field)
    return value


def create_series(body, actor, *, title, rule, first_start_local, duration_minutes, place="", online_url=""):
    """A new series of regular meetings (not yet expanded: see `expand_series`)."""
    title = _text(title, TITLE_MAX, _("einen Titel"), "title", required=True)
    rule = normalise_rule(rule)
    if first_start_local is None:
        raise MeetingError(_("Bitte geben Sie Datum und Uhrzeit des ersten Termins an."), "start_date")
    first_start_local = first_start_local.replace(second=0, microsecond=0, tzinfo=None)
    series = MeetingSeries(body_id=body.id, title=title, rrule=rule, first_start_local=first_start_local,
                           duration_minutes=_duration(duration_minutes),
                           place=_text(place, PLACE_MAX, "", "place"), online_url=_web_address(online_url))
    db.session.add(series)
    db.session.flush()
    record("meeting_series.created", series, actor=actor, object_type="meeting_series",
           new={"body": body.name, "title": title, "rrule": rule, "first_start_local": first_start_local.isoformat(),
                "duration_minutes": duration_minutes, "place": series.place, "online_url": series.online_url})
    return series


def default_horizon(now=None):
    return (now or utcnow()) + timedelta(days=HORIZON_DAYS)


def horizon_end(until):
    """`until` as an aware time: a date means the end of that day in Europe/Berlin."""
    if until is None:
        return default_horizon()
    if isinstance(until, datetime):
        return until if until.tzinfo else to_utc(until)
    return _end_of_local_day(until)


def series_starts(series, until=None):
    return occurrence_starts(series.rrule, series.first_start_local, horizon_end(until))


def expand_series(series, until=None, actor=None):
    """Create the Meeting rows of a series' occurrences up to `until` (default 12 months ahead).

    Idempotent: an occurrence that already has its row (by `original_start`) is left as it
    is, also when it was moved, cancelled or edited. Returns the new meetings.
    """
    starts = series_starts(series, until)
    existing = set(db.session.scalars(select(Meeting.original_start).where(Meeting.series_id == series.id)))
    duration = timedelta(minutes=series.duration_minutes)
    created = []
    for start in starts:
        if start in existing:
            continue
        meeting = Meeting(body_id=series.body_id, series_id=series.id, original_start=start, title=series.title,
                          starts_at=start, ends_at=start + duration, place=series.place,
                          online_url=series.online_url, uid=new_uid("meeting"))
        db.session.add(meeting)
        created.append(meeting)
    if created:
        db.session.flush()
        record("meeting_series.expanded", series, actor=actor, object_type="meeting_series",
               details={"created": len(created), "until": horizon_end(until).isoformat()})
    return created


def _times(starts_at, ends_at):
    if starts_at is None or ends_at is None:
        raise MeetingError(_("Bitte geben Sie Datum, Beginn und Ende an."), "date")
    if ends_at <= starts_at:
        raise MeetingError(_("Das Ende muss nach dem Beginn liegen."), "end_time")
    if ends_at - starts_at > timedelta(hours=24):
        raise MeetingError(_("Eine Sitzung dauert höchstens 24 Stunden."), "end_time")
    return starts_at, ends_at


def create_meeting(body, actor, *, title, starts_at, ends_at, place="", online_url=""):
    """A single date outside any series. `original_start` keeps the planned start, so a move shows."""
    title = _text(title, TITLE_MAX, _("einen Titel"), "title", required=True)
    starts_at, ends_at = _times(starts_at, ends_at)
    meeting = Meeting(body_id=body.id, title=title, starts_at=starts_at, ends_at=ends_at, original_start=starts_at,
                      place=_text(place, PLACE_MAX, "", "place"), online_url=_web_address(online_url),
                      uid=new_uid("meeting"))
    db.session.add(meeting)
    db.session.flush()
    record("meeting.created", meeting, actor=actor,
           new={"body": body.name, "title": title, "starts_at": starts_at.isoformat(),
                "ends_at": ends_at.isoformat(), "place": meeting.place, "online_url": meeting.online_url})
    return meeting


def was_moved(meeting):
    return meeting.original_start is not None and meeting.starts_at != meeting.original_start


def update_meeting(meeting, actor, *, title, place, online_url):
    """Change title, place or online link; each change is a new version for calendars (sequence + 1)."""
    values = {"title": _text(title, TITLE_MAX, _("einen Titel"), "title", required=True),
              "place": _text(place, PLACE_MAX, "", "place"), "online_url": _web_address(online_url)}
    old, new = _changes(meeting, values)
    if new:
        meeting.sequence += 1
        record("meeting.updated", meeting, actor=actor, old=old, new=new)
    return bool(new)


def move_meeting(meeting, new_start, new_end, actor):
    """Move a date (sequence + 1); the original start stays, so the date shows as moved."""
    if meeting.cancelled:
        raise MeetingError(_("Die Sitzung ist abgesagt. Stellen Sie sie zuerst wieder her."), "date")
    new_start, new_end = _times(new_start, new_end)
    if new_start == meeting.starts_at and new_end == meeting.ends_at:
        return False
    old = {"starts_at": meeting.starts_at.isoformat(), "ends_at": meeting.ends_at.isoformat()}
    meeting.starts_at, meeting.ends_at = new_start, new_end
    meeting.sequence += 1
    record("meeting.moved", meeting, actor=actor, old=old,
           new={"starts_at": new_start.isoformat(), "ends_at": new_end.isoformat()})
    return True


def cancel_meeting(meeting, reason, actor):
    """Cancel a date with a reason shown on its page and in the calendars (sequence + 1)."""
    reason = _text(reason, PLACE_MAX, _("einen Grund"), "reason", required=True)
    if meeting.cancelled:
        raise MeetingError(_("Die Sitzung ist bereits abgesagt."), "reason")
    meeting.status, meeting.cancel_reason = MeetingStatus.CANCELLED.value, reason
    meeting.sequence += 1
    record("meeting.cancelled", meeting, actor=actor, old={"status": MeetingStatus.SCHEDULED.value},
           new={"status": MeetingStatus.CANCELLED.value}, reason=reason)


def restore_meeting(meeting, actor):
    """Take back a cancellation (sequence + 1)."""
    if not meeting.cancelled:
        raise MeetingError(_("Die Sitzung ist nicht abgesagt."))
    reason = meeting.cancel_reason
    meeting.status, meeting.cancel_reason = MeetingStatus.SCHEDULED.value, ""
    meeting.sequence += 1
    record("meeting.restored", meeting, actor=actor, old={"status": MeetingStatus.CANCELLED.value,
                                                          "cancel_reason": reason},
           new={"status": MeetingStatus.SCHEDULED.value})


def upcoming_meetings(body, now=None, limit=None):
    query = (select(Meeting).where(Meeting.body_id == body.id, Meeting.ends_at >= (now or utcnow()))
             .order_by(Meeting.starts_at, Meeting.id))
    return db.session.scalars(query.limit(limit) if limit else query).all()


def past_meetings(body, now=None, limit=None):
    query = (select(Meeting).where(Meeting.body_id == body.id, Meeting.ends_at < (now or utcnow()))
             .order_by(Meeting.starts_at.desc(), Meeting.id.desc()))
    return db.session.scalars(query.limit(limit) if limit else query).all()


def meeting_label(meeting):
    """"Sitzung vom 12.03.2025" in the local date."""
    return _("Sitzung vom %(date)s", date=format_day(meeting.starts_at))


# --- agenda --------------------------------------------------------------------------------------

@dataclass
class Slot:
    """An accepted agenda item with its TOP number and planned times."""
    item: AgendaItem
    number: int
    starts_at: datetime
    ends_at: datetime


@dataclass
class RunningTimes:
    slots: list  # [Slot] in agenda order
    planned_end: datetime


def accepted_items(meeting):
    """The items on the agenda, in order (sorted here too, so a reordering shows before a reload)."""
    return sorted((item for item in meeting.items if item.status == AgendaStatus.ACCEPTED.value),
                  key=lambda item: (item.position, item.id))


def running_times(meeting):
    """When each accepted item starts (meeting start + the durations before it) and the planned end."""
    slots, moment = [], meeting.starts_at
    for number, item in enumerate(accepted_items(meeting), start=1):
        end = moment + timedelta(minutes=item.duration_minutes)
        slots.append(Slot(item=item, number=number, starts_at=moment, ends_at=end))
        moment = end
    return RunningTimes(slots=slots, planned_end=moment)


def top_numbers(meeting):
    """{item id: TOP number} of the accepted items."""
    return {item.id: number for number, item in enumerate(accepted_items(meeting), start=1)}


def proposal_deadline(meeting):
    """Members propose items until this moment: the start minus the body's deadline in days."""
    return meeting.starts_at - timedelta(days=meeting.body.proposal_deadline_days)


def proposals_open(meeting, now=None):
    return not meeting.cancelled and (now or utcnow()) < proposal_deadline(meeting)


def may_propose(meeting, user):
    """Whether the user may propose items for this meeting at all (deadline aside)."""
    return is_staff(user) or membership(meeting.body, user) is not None


def _next_position(meeting):
    return (db.session.scalar(select(func.max(AgendaItem.position)).where(AgendaItem.meeting_id == meeting.id))
            or 0) + 1


def _item_values(title, description, duration_minutes, presenter=None):
    values = {"title": _text(title, TITLE_MAX, _("einen Titel"), "title", required=True),
              "description": _text(description, DESCRIPTION_MAX, "", "description"),
              "duration_minutes": _duration(duration_minutes, low=0, high=DURATION_MAX)}
    if presenter is not None:
        values["presenter"] = _text(presenter, NAME_MAX, "", "presenter")
    return values


def propose_item(meeting, user, title, description, duration_minutes, now=None):
    """A member (or staff) proposes an item until the deadline; it waits for staff as "vorgeschlagen"."""
    if not may_propose(meeting, user):
        raise MeetingError(_("Nur Mitglieder des Gremiums können Tagesordnungspunkte vorschlagen."))
    if meeting.cancelled:
        raise MeetingError(_("Die Sitzung ist abgesagt; es können keine Punkte mehr vorgeschlagen werden."))
    deadline = proposal_deadline(meeting)
    if (now or utcnow()) >= deadline:
        raise MeetingError(_("Die Frist für Vorschläge zu dieser Sitzung ist am %(deadline)s Uhr abgelaufen. "
                             "Bitte wenden Sie sich an die Geschäftsstelle.",
                             deadline=format_datetime(deadline, "dd.MM.yyyy, HH:mm")))
    values = _item_values(title, description, duration_minutes)
    item = AgendaItem(meeting_id=meeting.id, position=_next_position(meeting), status=AgendaStatus.PROPOSED.value,
                      proposed_by_id=user.id, presenter=user.public_name[:NAME_MAX], **values)
    db.session.add(item)
    db.session.flush()
    record("agenda_item.proposed", item, actor=user, new={"meeting_id": meeting.id, **values})
    return item


def add_item(meeting, actor, *, title, presenter="", duration_minutes=15, description=""):
    """Staff put an item directly on the agenda (at the end)."""
    values = _item_values(title, description, duration_minutes, presenter)
    item = AgendaItem(meeting_id=meeting.id, position=_next_position(meeting), status=AgendaStatus.ACCEPTED.value,
                      **values)
    db.session.add(item)
    db.session.flush()
    record("agenda_item.added", item, actor=actor, new={"meeting_id": meeting.id, **values})
    return item


def edit_item(item, actor, *, title, presenter, duration_minutes, description):
    old, new = _changes(item, _item_values(title, description, duration_minutes, presenter))
    if new:
        record("agenda_item.updated", item, actor=actor, old=old, new=new)
    return bool(new)


def meeting_path(meeting_id, anchor=None):
    """The public page of a meeting; also outside a request (jobs, CLI), where url_for has no host."""
    if has_request_context():
        return url_for("working_group.meeting", meeting_id=meeting_id, _anchor=anchor)
    return f"/arbeitskreis/sitzung/{meeting_id}" + (f"#{anchor}" if anchor else "")


def _item_url(item):
    return meeting_path(item.meeting_id)


def accept_item(item, actor):
    """Take a proposal onto the agenda (at the end); the proposer is told in the app."""
    if item.status == AgendaStatus.ACCEPTED.value:
        raise MeetingError(_("Der Punkt steht bereits auf der Tagesordnung."))
    old = item.status
    item.status, item.status_reason = AgendaStatus.ACCEPTED.value, ""
    item.position = _next_position(item.meeting)
    record("agenda_item.accepted", item, actor=actor, old={"status": old}, new={"status": item.status})
    if item.proposed_by is not None and item.proposed_by_id != getattr(actor, "id", None):
        from ..notifications.services import notify

        notify(item.proposed_by, "agenda.accepted",
               _("Ihr Vorschlag „%(title)s“ steht auf der Tagesordnung der %(meeting)s.", title=item.title,
                 meeting=meeting_label(item.meeting)), _item_url(item))


def reject_item(item, reason, actor):
    """Do not take up a proposal; the reason is shown to the proposer and they are told in the app."""
    reason = _text(reason, PLACE_MAX, _("einen Grund"), "reason", required=True)
    if item.status == AgendaStatus.REJECTED.value:
        raise MeetingError(_("Der Punkt ist bereits abgelehnt."), "reason")
    if item.discussion or item.decision or item.actions:
        raise MeetingError(_("Zu diesem Punkt gibt es schon ein Protokoll; er kann nicht mehr abgelehnt werden."),
                           "reason")
    old = item.status
    item.status, item.status_reason = AgendaStatus.REJECTED.value, reason
    record("agenda_item.rejected", item, actor=actor, old={"status": old}, new={"status": item.status},
           reason=reason)
    if item.proposed_by is not None and item.proposed_by_id != getattr(actor, "id", None):
        from ..notifications.services import notify

        notify(item.proposed_by, "agenda.rejected",
               _("Ihr Vorschlag „%(title)s“ wurde nicht in die Tagesordnung der %(meeting)s aufgenommen. "
                 "Grund: %(reason)s", title=item.title, meeting=meeting_label(item.meeting), reason=reason),
               _item_url(item))


def delete_item(item, actor):
    """Remove an item that has no minutes yet."""
    if item.discussion or item.decision or item.actions:
        raise MeetingError(_("Zu diesem Punkt gibt es schon ein Protokoll oder Aufgaben; er kann nicht gelöscht "
                             "werden."))
    record("agenda_item.deleted", item, actor=actor, old={"meeting_id": item.meeting_id, "title": item.title,
                                                          "status": item.status})
    item.meeting.items.remove(item)
    db.session.delete(item)


def _renumber(meeting, ordered):
    positions = {}
    for position, item in enumerate(ordered, start=1):
        if item.position != position:
            positions[item.id] = (item.position, position)
            item.position = position
    return positions


def _ordered(meeting):
    return sorted(meeting.items, key=lambda item: (item.position, item.id))


def move_item(item, direction, actor):
    """Move an accepted item one place up (-1) or down (+1) among the accepted items."""
    accepted = [entry for entry in _ordered(item.meeting) if entry.status == AgendaStatus.ACCEPTED.value]
    if item not in accepted:
        raise MeetingError(_("Nur Punkte auf der Tagesordnung können verschoben werden."))
    index = accepted.index(item)
    target = index + direction
    if not 0 <= target < len(accepted):
        return False
    accepted[index], accepted[target] = accepted[target], accepted[index]
    others = [entry for entry in _ordered(item.meeting) if entry.status != AgendaStatus.ACCEPTED.value]
    changed = _renumber(item.meeting, accepted + others)
    record("agenda.reordered", item.meeting, actor=actor, details={"moved": item.id, "direction": direction})
    return bool(changed)


def set_positions(meeting, positions, actor):
    """Order the accepted items by the given numbers ({item id: number}); ties keep their current order."""
    current = [entry for entry in _ordered(meeting) if entry.status == AgendaStatus.ACCEPTED.value]
    rank = {item.id: index for index, item in enumerate(current)}
    ordered = sorted(current, key=lambda item: (positions.get(item.id, rank[item.id] + 1), rank[item.id]))
    others = [entry for entry in _ordered(meeting) if entry.status != AgendaStatus.ACCEPTED.value]
    changed = _renumber(meeting, ordered + others)
    if changed:
        record("agenda.reordered", meeting, actor=actor, details={"order": [item.id for item in ordered]})
    return bool(changed)


def publish_agenda(meeting, actor):
    """Publish the agenda. Members receive it from the scheduler (agenda_lead_days before the meeting)."""
    if meeting.cancelled:
        raise MeetingError(_("Die Sitzung ist abgesagt; die Tagesordnung kann nicht veröffentlicht werden."))
    if meeting.agenda_published_at is not None:
        raise MeetingError(_("Die Tagesordnung ist bereits veröffentlicht."))
    if not accepted_items(meeting):
        raise MeetingError(_("Die Tagesordnung hat noch keinen Punkt."))
    meeting.agenda_published_at = utcnow()
    record("meeting.agenda_published", meeting, actor=actor, details={"items": len(accepted_items(meeting))})


_IDEA_NUMBERS = re.compile(r"^[\s#,;0-9]*$")
_MEASURE_NUMBER = re.compile(r"^M-\d{1,3}\.\d{1,3}$")


def parse_idea_numbers(text):
    if not _IDEA_NUMBERS.match(text or ""):
        raise MeetingError(_("Bitte geben Sie die Nummern der Ideen an, durch Kommas getrennt (z. B. 12, 40)."),
                           "ideas")
    return sorted({int(number) for number in re.findall(r"\d+", text or "") if len(number) < 10})


def parse_measure_numbers(text):
    numbers = sorted({part.upper() for part in re.split(r"[\s,;]+", text or "") if part})
    wrong = [number for number in numbers if not _MEASURE_NUMBER.match(number)]
    if wrong:
        raise MeetingError(_("Unbekanntes Format der Maßnahmennummer: %(numbers)s. Bitte z. B. „M-2.3“.",
                             numbers=", ".join(wrong[:5])[:120]), "measures")
    return numbers


def set_item_links(item, actor, *, idea_text, measure_text):
    """Link the item to ideas (by number) and measures (by number like M-2.3); replaces the previous links."""
    idea_ids, numbers = parse_idea_numbers(idea_text), parse_measure_numbers(measure_text)
    if len(idea_ids) > MAX_LINKS or len(numbers) > MAX_LINKS:
        raise MeetingError(_("Höchstens %(max)d Verknüpfungen je Art.", max=MAX_LINKS), "ideas")
    ideas = db.session.scalars(select(Idea).where(Idea.id.in_(idea_ids)).order_by(Idea.id)).all() if idea_ids else []
    missing = sorted(set(idea_ids) - {idea.id for idea in ideas if not idea.is_hidden})
    if missing:
        raise MeetingError(_("Diese Ideen gibt es nicht (oder sie sind ausgeblendet): %(ids)s.",
                             ids=", ".join(map(str, missing))), "ideas")
    measures = (db.session.scalars(select(Measure).where(func.upper(Measure.number).in_(numbers))).all()
                if numbers else [])
    unknown = sorted(set(numbers) - {measure.number.upper() for measure in measures})
    if unknown:
        raise MeetingError(_("Diese Maßnahmen gibt es nicht: %(numbers)s.", numbers=", ".join(unknown)), "measures")
    old = {"ideas": [idea.id for idea in item.ideas], "measures": [measure.number for measure in item.measures]}
    new = {"ideas": [idea.id for idea in ideas], "measures": sorted(measure.number for measure in measures)}
    if old["ideas"] == new["ideas"] and sorted(old["measures"]) == new["measures"]:
        return False
    item.ideas = list(ideas)
    item.measures = sorted(measures, key=lambda measure: measure.number)
    record("agenda_item.links", item, actor=actor, old=old, new=new)
    return True


# --- materials -----------------------------------------------------------------------------------

def _zip_names(data):
    """The member names of a ZIP file (ODT, DOCX, XLSX), or None when it is no readable ZIP file."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError, NotImplementedError):
        return None


def _is_odt(data):
    """An OpenDocument text: its first member "mimetype" names the type (read only that small member)."""
    names = _zip_names(data)
    if not names or "mimetype" not in names:
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if archive.getinfo("mimetype").file_size > 100:
                return False
            return archive.read("mimetype").strip() == b"application/vnd.oasis.opendocument.text"
    except (zipfile.BadZipFile, KeyError, RuntimeError, OSError, NotImplementedError, ValueError):
        return False


def _is_ooxml(folder):
    def check(data):
        names = _zip_names(data) or set()
        return "[Content_Types].xml" in names and any(name.startswith(folder) for name in names)
    return check


MATERIAL_TYPES = {
    ".pdf": ("application/pdf", lambda data: data.startswith(b"%PDF-")),
    ".odt": ("application/vnd.oasis.opendocument.text", lambda data: data.startswith(b"PK\x03\x04") and _is_odt(data)),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
              lambda data: data.startswith(b"PK\x03\x04") and _is_ooxml("word/")(data)),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
              lambda data: data.startswith(b"PK\x03\x04") and _is_ooxml("xl/")(data)),
    ".png": ("image/png", lambda data: data.startswith(b"\x89PNG\r\n\x1a\n")),
    ".jpg": ("image/jpeg", lambda data: data.startswith(b"\xff\xd8\xff")),
    ".jpeg": ("image/jpeg", lambda data: data.startswith(b"\xff\xd8\xff")),
}


def clean_material_name(name):
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C" and char not in '"<>|*?:')
    name = name.strip().strip(".")
    if len(name) > 150:
        stem, dot, extension = name.rpartition(".")
        name = stem[:140] + dot + extension[:9] if dot else name[:150]
    return name


def check_material_file(filename, data):
    """(clean name, content type) of an upload, or MeetingError: 10 MB at most, known type by name and content."""
    name = clean_material_name(filename)
    if not name:
        raise MeetingError(_("Bitte wählen Sie eine Datei aus."), "file")
    extension = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in MATERIAL_TYPES:
        raise MeetingError(_("Erlaubt sind PDF, ODT, DOCX, XLSX, PNG und JPEG."), "file")
    if len(data) > MATERIAL_MAX_BYTES:
        raise MeetingError(_("Die Datei ist zu groß (höchstens 10 MB)."), "file")
    if not data:
        raise MeetingError(_("Die Datei ist leer."), "file")
    content_type, matches = MATERIAL_TYPES[extension]
    if not matches(data):
        raise MeetingError(_("Der Inhalt der Datei passt nicht zu ihrer Endung „%(extension)s“. Bitte laden Sie "
                             "eine echte %(kind)s-Datei hoch.", extension=extension,
                             kind=extension[1:].upper().replace("JPEG", "JPG")), "file")
    return name, content_type


def add_link_material(item, actor, *, title, url):
    url = _web_address(url, "url")
    if not url:
        raise MeetingError(_("Bitte geben Sie eine Webadresse oder eine Datei an."), "url")
    title = _text(title, TITLE_MAX, "", "title") or url[:TITLE_MAX]
    material = AgendaMaterial(agenda_item_id=item.id, title=title, url=url, size=0)
    item.materials.append(material)
    db.session.flush()
    record("agenda_item.material_added", item, actor=actor, new={"title": title, "url": url})
    return material


def add_file_material(item, actor, *, title, filename, data):
    name, content_type = check_material_file(filename, data)
    title = _text(title, TITLE_MAX, "", "title") or name[:TITLE_MAX]
    material = AgendaMaterial(agenda_item_id=item.id, title=title, filename=name, content_type=content_type,
                              content=data, size=len(data))
    item.materials.append(material)
    db.session.flush()
    record("agenda_item.material_added", item, actor=actor, new={"title": title, "filename": name,
                                                                 "size": len(data)})
    return material


def delete_material(material, actor):
    item = db.session.get(AgendaItem, material.agenda_item_id)
    record("agenda_item.material_deleted", item, actor=actor,
           old={"title": material.title, "url": material.url, "filename": material.filename})
    item.materials.remove(material)
    db.session.delete(material)


# --- who sees what -------------------------------------------------------------------------------

def agenda_visible(meeting, level):
    return level == STAFF_VIEW or meeting.agenda_published_at is not None


def minutes_visible(meeting, level):
    return level == STAFF_VIEW or meeting.minutes_published_at is not None


def item_visible(item, level, user=None):
    """Whether the item (and its materials) may be shown to a viewer at this access level."""
    if level is None:
        return False
    if level == STAFF_VIEW:
        return True
    if item.status == AgendaStatus.ACCEPTED.value and item.meeting.agenda_published_at is not None:
        return True
    return (level == MEMBER_VIEW and user is not None and getattr(user, "id", None) is not None
            and item.proposed_by_id == user.id)


# --- minutes -------------------------------------------------------------------------------------

def open_actions_before(meeting, *, published_only=False):
    """The open action items of the body from meetings before this one (they belong on its agenda).

    `published_only`: only those from minutes already published (for the public page).
    """
    query = (select(ActionItem).join(Meeting, Meeting.id == ActionItem.meeting_id)
             .where(ActionItem.body_id == meeting.body_id, ActionItem.status == ActionStatus.OPEN.value,
                    Meeting.starts_at < meeting.starts_at, Meeting.id != meeting.id)
             .options(selectinload(ActionItem.meeting), selectinload(ActionItem.agenda_item))
             .order_by(Meeting.starts_at, ActionItem.due_on, ActionItem.id))
    if published_only:
        query = query.where(Meeting.minutes_published_at.is_not(None))
    return db.session.scalars(query).all()


def save_minutes(meeting, actor, *, items, attendance):
    """Store the minutes: `items` {item id: (discussion, decision)}, `attendance` {member id: status}.

    Only accepted items of this meeting and members active on its day are taken.
    """
    if meeting.cancelled:
        raise MeetingError(_("Die Sitzung ist abgesagt; es gibt kein Protokoll."))
    accepted = {item.id: item for item in accepted_items(meeting)}
    changes = {}
    for item_id, (discussion, decision) in items.items():
        item = accepted.get(item_id)
        if item is None:
            continue
        values = {"discussion": _text(discussion, MINUTES_TEXT_MAX, "", f"discussion_{item_id}"),
                  "decision": _text(decision, MINUTES_TEXT_MAX, "", f"decision_{item_id}")}
        old, new = _changes(item, values)
        if new:
            changes[item_id] = {"old": old, "new": new}
    members = {member.id: member for member in active_members(meeting.body, local_date(meeting.starts_at))}
    known = {row.member_id: row for row in db.session.scalars(select(Attendance)
                                                              .where(Attendance.meeting_id == meeting.id))}
    statuses = {status.value for status in AttendanceStatus}
    presence = {}
    for member_id, status in attendance.items():
        if member_id not in members:
            continue
        if status not in statuses:
            raise MeetingError(_("Unbekannter Status der Anwesenheit."), f"attendance_{member_id}")
        row = known.get(member_id)
        if row is None:
            db.session.add(Attendance(meeting_id=meeting.id, member_id=member_id, status=status))
            presence[member_id] = [None, status]
        elif row.status != status:
            presence[member_id] = [row.status, status]
            row.status = status
    if changes or presence:
        record("meeting.minutes_saved", meeting, actor=actor,
               details={"items": changes, "attendance": {str(k): v for k, v in presence.items()}})
    return bool(changes or presence)


def attendance_of(meeting):
    """{member id: status} recorded for a meeting."""
    return dict(db.session.execute(select(Attendance.member_id, Attendance.status)
                                   .where(Attendance.meeting_id == meeting.id)).all())


def attendance_summary(meeting):
    """[(AttendanceStatus, [BodyMember])] for the minutes, and {status value: count}."""
    rows = db.session.scalars(select(Attendance).where(Attendance.meeting_id == meeting.id)
                              .options(selectinload(Attendance.member))).all()
    groups = {status: [] for status in AttendanceStatus}
    for row in rows:
        groups[AttendanceStatus(row.status)].append(row.member)
    for members in groups.values():
        members.sort(key=lambda member: (member.organisation, member.name))
    return groups


def add_action(meeting, actor, *, title, agenda_item=None, assignee="", member=None, due_on=None):
    """An action item from the minutes; with `member` the assignee is that body member (and their account)."""
    title = _text(title, PLACE_MAX, _("die Aufgabe"), "title", required=True)
    if agenda_item is not None and agenda_item.meeting_id != meeting.id:
        raise MeetingError(_("Dieser Tagesordnungspunkt gehört zu einer anderen Sitzung."), "item")
    if member is not None:
        if member.body_id != meeting.body_id:
            raise MeetingError(_("Diese Person ist kein Mitglied des Gremiums."), "member")
        assignee, user_id = member.name, member.user_id
    else:
        assignee, user_id = _text(assignee, NAME_MAX, "", "assignee"), None
    action = ActionItem(body_id=meeting.body_id, meeting_id=meeting.id, agenda_item_id=getattr(agenda_item, "id", None),
                        title=title, assignee=assignee, assignee_user_id=user_id, due_on=due_on)
    db.session.add(action)
    db.session.flush()
    record("action_item.created", action, actor=actor,
           new={"meeting_id": meeting.id, "agenda_item_id": action.agenda_item_id, "title": title,
                "assignee": assignee, "due_on": due_on.isoformat() if due_on else None})
    return action


def set_action_status(action, status, actor):
    if status not in {value.value for value in ActionStatus}:
        raise MeetingError(_("Unbekannter Status."))
    if action.status == status:
        return False
    old = action.status
    action.status = status
    action.done_at = utcnow() if status == ActionStatus.DONE.value else None
    record("action_item.status", action, actor=actor, old={"status": old}, new={"status": status})
    return True


def delete_action(action, actor):
    record("action_item.deleted", action, actor=actor, old={"title": action.title, "meeting_id": action.meeting_id})
    db.session.delete(action)


def publish_minutes(meeting, actor, now=None):
    """Publish the minutes: decisions, action items and attendance become visible (decisions also on measures)."""
    if meeting.cancelled:
        raise MeetingError(_("Die Sitzung ist abgesagt; es gibt kein Protokoll."))
    if meeting.minutes_published_at is not None:
        raise MeetingError(_("Das Protokoll ist bereits veröffentlicht."))
    if (now or utcnow()) < meeting.starts_at:
        raise MeetingError(_("Das Protokoll kann erst nach Beginn der Sitzung veröffentlicht werden."))
    meeting.minutes_published_at = now or utcnow()
    record("meeting.minutes_published", meeting, actor=actor)


def actions_of_body(body, status=None):
    query = (select(ActionItem).join(Meeting, Meeting.id == ActionItem.meeting_id)
             .where(ActionItem.body_id == body.id)
             .options(selectinload(ActionItem.meeting), selectinload(ActionItem.agenda_item))
             .order_by(ActionItem.status.desc(), ActionItem.due_on.is_(None), ActionItem.due_on, Meeting.starts_at,
                       ActionItem.id))
    if status:
        query = query.where(ActionItem.status == status)
    return db.session.scalars(query).all()


# --- decisions on the measure pages --------------------------------------------------------------

def _viewer():
    return current_user if has_request_context() else None


@measure_queries.origin_provider
def _decisions_for_measure(measure):
    """Decisions of published minutes on items that concern the measure (bodies the viewer may see)."""
    rows = db.session.execute(
        select(AgendaItem, Meeting)
        .join(agenda_item_measures, agenda_item_measures.c.agenda_item_id == AgendaItem.id)
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .where(agenda_item_measures.c.measure_id == measure.id, AgendaItem.status == AgendaStatus.ACCEPTED.value,
               AgendaItem.decision != "", Meeting.minutes_published_at.is_not(None),
               Meeting.status == MeetingStatus.SCHEDULED.value)
        .order_by(Meeting.starts_at, AgendaItem.position, AgendaItem.id)).all()
    if not rows:
        return []
    viewer, levels, origins = _viewer(), {}, []
    for item, meeting in rows:
        body = meeting.body
        if body.id not in levels:
            levels[body.id] = access_level(body, viewer)
        if levels[body.id] is None:
            continue
        number = top_numbers(meeting).get(item.id)
        origins.append(measure_queries.Origin(
            kind=body.name,
            title=_("%(meeting)s, TOP %(number)d: %(title)s", meeting=meeting_label(meeting), number=number or 0,
                    title=item.title),
            date=local_date(meeting.starts_at),
            url=meeting_path(meeting.id, f"top-{number}"),
            text=item.decision))
    return origins
