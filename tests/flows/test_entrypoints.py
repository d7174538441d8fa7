"""Every deployment in prefect.yaml points at a flow that imports cleanly (nothing at import)."""

from pathlib import Path

import pytest
import yaml
from prefect.flows import load_flow_from_entrypoint

PROJECT = Path(__file__).resolve().parents[2]
DEPLOYMENTS = yaml.safe_load((PROJECT / "prefect.yaml").read_text())["deployments"]


@pytest.mark.parametrize(
    "deployment", DEPLOYMENTS, ids=[deployment["name"] for deployment in DEPLOYMENTS]
)
def test_the_entrypoint_loads_the_flow_the_deployment_is_named_after(
    deployment: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(PROJECT)

    loaded = load_flow_from_entrypoint(str(deployment["entrypoint"]))

    assert loaded.name == deployment["name"]


def test_no_flows_module_shadows_a_top_level_package() -> None:
    """A worker loads an entrypoint by its path, which puts flows/ first on sys.path: a module
    there named like a package of the project (flows/sources.py) would hide that package."""
    packages = {path.name for path in PROJECT.iterdir() if (path / "__init__.py").is_file()}
    flows_modules = {path.stem for path in (PROJECT / "flows").glob("*.py")}

    assert flows_modules & packages == set()


def test_scheduled_deployments_take_their_schedule_from_the_environment() -> None:
    schedules = {d["name"]: d["schedules"] for d in DEPLOYMENTS}

    assert schedules["nightly"][0]["cron"] == "{{ $INFLUENCERS_NIGHTLY_CRON }}"
    assert schedules["weekly-reports"][0]["timezone"] == "{{ $INFLUENCERS_SCHEDULE_TIMEZONE }}"
    assert schedules["maintenance"][0]["cron"] == "{{ $INFLUENCERS_MAINTENANCE_CRON }}"
    assert schedules["backfill"] == []
