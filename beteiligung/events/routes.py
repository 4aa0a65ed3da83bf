"""Public pages of the workshops and events, registration and the waiting list."""
from . import bp  # noqa: F401
