"""Staff pages for writing measure sheets (being built)."""
from .staff import bp  # noqa: F401
