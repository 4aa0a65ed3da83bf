"""Running a small write and committing it, retried when the database was busy."""
import random
import time

from sqlalchemy.exc import OperationalError

from ..extensions import db

ATTEMPTS = 5


def _is_transient(error):
    message = str(error.orig).lower() if error.orig is not None else str(error).lower()
    return "database is locked" in message or "deadlock" in message or "could not serialize" in message


def retrying(work):
    """Run `work()` and commit; on a transient lock error roll back and try again.

    Any other exception rolls back and propagates. Returns what `work` returned.
    """
    for attempt in range(1, ATTEMPTS + 1):
        try:
            result = work()
            db.session.commit()
            return result
        except OperationalError as error:
            db.session.rollback()
            if attempt == ATTEMPTS or not _is_transient(error):
                raise
            time.sleep(random.uniform(0.01, 0.05) * attempt)
        except Exception:
            db.session.rollback()
            raise
