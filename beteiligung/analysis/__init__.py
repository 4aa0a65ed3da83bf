"""The triage workspace: analysis runs over the ideas and the decisions staff make on their suggestions."""
