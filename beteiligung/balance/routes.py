"""Public pages of the balance and the scenarios."""
from . import bp  # noqa: F401
