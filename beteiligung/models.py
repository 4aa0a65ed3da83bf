"""Shared column types and mixins for the models of every area."""
from datetime import datetime, timezone

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

from .extensions import db


def utcnow():
    return datetime.now(timezone.utc)


def isoformat(value):
    """ISO 8601 text of a date or time, None stays None (for JSON)."""
    return value.isoformat() if value is not None else None


class UTCDateTime(TypeDecorator):
    """A timestamp stored as UTC and always returned timezone-aware.

    SQLite keeps no time zone; this type makes both databases behave alike.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC times")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


class TimestampMixin:
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)  # when the row was created
    updated_at = db.Column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)  # last change


# The job store of the scheduler (APScheduler's SQLAlchemyJobStore, same columns as its own
# definition), declared here so that a migration creates it and the scheduler never has to.
scheduler_jobs = db.Table(
    "apscheduler_jobs",
    db.Column("id", db.Unicode(191), primary_key=True),
    db.Column("next_run_time", db.Float(25), index=True),
    db.Column("job_state", db.LargeBinary, nullable=False),
)
