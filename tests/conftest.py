"""Test-wide environment: Prefect offline, in a throwaway home, set before Prefect loads."""

import os
import tempfile

os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
if os.environ.get("PYTEST_XDIST_WORKER"):
    # Each worker of `pytest -n` gets its own home: they never share Prefect's files.
    os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="prefect-home-")
else:
    os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="prefect-home-"))
os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
for name in list(os.environ):
    # An operator's own settings must not leak into the tests.
    if name.startswith("INFLUENCERS_"):
        del os.environ[name]
