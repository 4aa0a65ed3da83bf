"""Staff pages of the bodies."""
from .staff import bp  # noqa: F401
