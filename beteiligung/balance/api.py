"""The balance and the scenario in the JSON API."""
