"""Staff pages of the workshops and events."""
from .staff import bp  # noqa: F401
