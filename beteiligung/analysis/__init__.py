"""The triage workspace: analysis runs over the ideas and the decisions staff make on their suggestions."""

from . import demo, privacy  # noqa: E402,F401  (register the demo step and the data export)
