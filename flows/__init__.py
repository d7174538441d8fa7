"""Prefect flows and tasks, settings and the command line: the only place settings are read."""
