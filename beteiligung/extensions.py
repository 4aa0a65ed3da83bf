"""Extensions, created unbound and initialised in create_app()."""
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData

# Stable constraint names, so that Alembic revisions can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate(render_as_batch=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def config_limit(key):
    """A rate limit read from the configuration at request time (e.g. "10 per hour")."""
    from flask import current_app

    return lambda: current_app.config[key]


def account_or_address():
    """Rate-limit key: the signed-in account, else the client address."""
    from flask_login import current_user

    return f"user:{current_user.id}" if current_user.is_authenticated else get_remote_address()


def _configure_sqlite_connection(dbapi_connection, _record):
    """SQLite: enforce foreign keys, let readers and a writer work side by side (WAL),
    and wait for a lock instead of failing at once."""
    import sqlite3

    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 10000")
    if cursor.execute("PRAGMA database_list").fetchone()[2]:  # a file, not :memory:
        cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


def install_sqlite_pragmas():
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if not event.contains(Engine, "connect", _configure_sqlite_connection):
        event.listen(Engine, "connect", _configure_sqlite_connection)
