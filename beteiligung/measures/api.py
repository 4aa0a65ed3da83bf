"""JSON API of the measure plan (being built)."""
