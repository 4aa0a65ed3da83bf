"""Public downloads of the measure plan (being built)."""
from . import bp  # noqa: F401
