"""Staff pages for exporting and importing the plan (being built)."""
from .staff import bp  # noqa: F401
