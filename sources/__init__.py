"""API clients and file readers that return raw records; the simulated platforms."""
