"""Configuration read from the environment, with defaults for a local installation."""
import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_PATH = Path(os.environ.get("INSTANCE_PATH", PROJECT_ROOT / "instance"))


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on", "ja"}


def env_int(name, default):
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_float(name, default):
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def load_secret_key(instance_path):
    """Return SECRET_KEY from the environment, or one generated once into instance/.

    The key file is created with mode 0600 and never lives in the repository.
    """
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def normalise_database_url(url):
    """Accept the common postgres:// spellings and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    """Settings shared by every environment; each can be overridden by a variable."""

    def __init__(self):
        self.INSTANCE_PATH = str(INSTANCE_PATH)
        self.SECRET_KEY = load_secret_key(INSTANCE_PATH)
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(
            os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_PATH / 'beteiligung.sqlite'}")
        )
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

        # Sessions and cookies. Secure cookies are the default; `python run.py`,
        # which serves plain HTTP on the loopback address, switches them off.
        secure = env_bool("SESSION_COOKIE_SECURE", True)
        self.SESSION_COOKIE_SECURE = secure
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_SECURE = secure
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_DURATION = 60 * 60 * 24 * env_int("REMEMBER_DAYS", 30)
        self.PERMANENT_SESSION_LIFETIME = 60 * 60 * 12
        self.WTF_CSRF_TIME_LIMIT = None  # bound to the session instead of a clock
        self.WTF_CSRF_CHECK_DEFAULT = False  # checked in access.py, which knows bearer tokens
        self.MAX_CONTENT_LENGTH = env_int("MAX_CONTENT_LENGTH", 16 * 1024 * 1024)
        self.PREFERRED_URL_SCHEME = os.environ.get("PREFERRED_URL_SCHEME", "https" if secure else "http")
        self.SERVER_NAME = os.environ.get("SERVER_NAME") or None
        self.PROXY_FIX = env_int("PROXY_FIX", 0)  # number of trusted reverse proxies

        # Passwords: werkzeug's scrypt unless a test run asks for something faster.
        self.PASSWORD_HASH_METHOD = os.environ.get("PASSWORD_HASH_METHOD", "scrypt")
        self.PASSWORD_MIN_LENGTH = env_int("PASSWORD_MIN_LENGTH", 10)
        self.PASSWORD_MIN_SCORE = env_int("PASSWORD_MIN_SCORE", 3)  # zxcvbn, 0..4
        self.PASSWORD_RESET_MAX_AGE = env_int("PASSWORD_RESET_MAX_AGE", 60 * 60)
        self.EMAIL_CHANGE_MAX_AGE = env_int("EMAIL_CHANGE_MAX_AGE", 60 * 60 * 24)

        # Rate limits (Flask-Limiter); Redis when RATELIMIT_STORAGE_URI is set.
        self.RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
        # Redis down: each worker counts in memory until it answers again, rather than failing
        # the login page.
        self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
        self.RATELIMIT_HEADERS_ENABLED = True
        self.RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", True)
        self.LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
        self.REGISTER_RATE_LIMIT = os.environ.get("REGISTER_RATE_LIMIT", "5 per hour")
        self.RESET_RATE_LIMIT = os.environ.get("RESET_RATE_LIMIT", "5 per 15 minutes")

        # Public forms carry a honeypot and the signed moment they were handed out; a form sent
        # back sooner than this (seconds) is refused as automated (beteiligung/forms.py).
        self.FORM_MIN_FILL_SECONDS = env_float("FORM_MIN_FILL_SECONDS", 3)

        # Mail. Without MAIL_SERVER every message stays in the outbox for admins to read.
        self.MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
        self.MAIL_PORT = env_int("MAIL_PORT", 587)
        self.MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
        self.MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
        self.MAIL_USE_TLS = env_bool("MAIL_USE_TLS", True)
        self.MAIL_USE_SSL = env_bool("MAIL_USE_SSL", False)
        self.MAIL_TIMEOUT = env_int("MAIL_TIMEOUT", 10)
        self.MAIL_DEFAULT_SENDER = os.environ.get(
            "MAIL_DEFAULT_SENDER", "Klima-Beteiligung <noreply@klima-beteiligung.example>"
        )
        self.MAIL_MAX_ATTEMPTS = env_int("MAIL_MAX_ATTEMPTS", 5)

        # Background jobs: one scheduler per installation (see README).
        self.SCHEDULER_ENABLED = env_bool("SCHEDULER_ENABLED", False)

        # Process and presentation.
        self.SITE_NAME = os.environ.get("SITE_NAME", "Klima-Aktionsplan Beteiligung")
        self.CITY_NAME = os.environ.get("CITY_NAME", "Stadt Jena")
        self.CONTACT_EMAIL = os.environ.get("CONTACT_EMAIL", "klimaschutz@stadt.example")
        self.BABEL_DEFAULT_LOCALE = "de"
        self.BABEL_DEFAULT_TIMEZONE = "Europe/Berlin"
        self.API_MAX_PER_PAGE = 100

        # Ideas: moderation, rate limits, map.
        self.REPORTS_TO_HIDE = env_int("REPORTS_TO_HIDE", 3)  # 0 switches automatic hiding off
        self.IDEA_RATE_LIMIT = os.environ.get("IDEA_RATE_LIMIT", "10 per hour")
        self.COMMENT_RATE_LIMIT = os.environ.get("COMMENT_RATE_LIMIT", "30 per hour")
        self.IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 5 * 1024 * 1024)
        self.SIMILAR_REBUILD_SECONDS = env_int("SIMILAR_REBUILD_SECONDS", 30)
        self.SIMILAR_BUILD_IN_BACKGROUND = True
        self.ANALYSIS_IN_BACKGROUND = True  # analysis runs in a thread; tests run them inline
        self.ANALYSIS_NIGHTLY_HOUR = env_int("ANALYSIS_NIGHTLY_HOUR", 2)  # local time of the nightly analysis
        self.DIGEST_HOUR = env_int("DIGEST_HOUR", 7)  # local time of the daily notification digest
        # A tile server enables the map; without one the district alone locates an idea.
        self.MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "")  # e.g. https://tiles.example.org/{z}/{x}/{y}.png
        self.MAP_ATTRIBUTION = os.environ.get("MAP_ATTRIBUTION", "© OpenStreetMap-Mitwirkende")
        self.MAP_CENTER = os.environ.get("MAP_CENTER", "50.9271,11.5892")  # latitude,longitude
        self.MAP_ZOOM = env_int("MAP_ZOOM", 13)
        self.API_DEFAULT_PER_PAGE = 20


class TestingConfig(Config):
    """Configuration for the test suite: a throw-away database, fast hashing."""

    __test__ = False  # not a pytest test class

    def __init__(self, database_url):
        super().__init__()
        self.TESTING = True
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(database_url)
        self.PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
        self.SESSION_COOKIE_SECURE = False
        self.REMEMBER_COOKIE_SECURE = False
        self.PREFERRED_URL_SCHEME = "http"
        self.RATELIMIT_STORAGE_URI = "memory://"
        self.FORM_MIN_FILL_SECONDS = 0  # tests post forms at once; tests/test_security_forms.py sets it
        self.SCHEDULER_ENABLED = False
        self.MAIL_SERVER = ""
        self.SERVER_NAME = None
        self.SIMILAR_REBUILD_SECONDS = 0
        self.SIMILAR_BUILD_IN_BACKGROUND = False
        self.ANALYSIS_IN_BACKGROUND = False
        self.DEMO_ANALYSIS = False  # the demo's analysis run takes seconds; test_analysis_demo switches it on
