"""Pages of the bodies for the public and their members."""
from . import bp  # noqa: F401
