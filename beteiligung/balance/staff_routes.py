"""Staff pages of the balance."""
from .staff import bp  # noqa: F401
