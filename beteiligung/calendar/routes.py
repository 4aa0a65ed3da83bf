"""The calendar page and the feeds."""
from . import bp  # noqa: F401
