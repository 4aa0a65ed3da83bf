"""Demo measure plan (being built)."""
