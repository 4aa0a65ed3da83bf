"""Demo content of the balance: a base-year balance and the scenario settings."""
