"""`influencers tiktok ...`: an operator connects a creator (a refresh token or a consent code on
standard input, checked against the simulated TikTok API over loopback), lists the connections
and removes one; the settings refuse a TikTok URL without the app's key and secret."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from typer.testing import CliRunner

from flows.cli import app
from flows.settings import MissingSecretError, Settings
from simulator import SimulatedWorld, SimulatorServer, TikTokAccess
from simulator.tiktok import connected_refresh_tokens, tiktok_view
from sources.tiktok.tokens import TokenStore

CLIENT_KEY = "cli-tiktok-client-key-11aa"
CLIENT_SECRET = "cli-tiktok-client-secret-77e0c3"


@pytest.fixture
def tiktok_api(
    world: SimulatedWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    access = TikTokAccess(CLIENT_KEY, CLIENT_SECRET)
    with SimulatorServer(world, access_token="ig-not-used", tiktok=access) as server:
        monkeypatch.setenv("INFLUENCERS_DATA_DIR", str(tmp_path / "data"))
        monkeypatch.setenv("INFLUENCERS_TIKTOK__API_URL", server.url + "/tiktok")
        monkeypatch.setenv("INFLUENCERS_TIKTOK__CLIENT_KEY", CLIENT_KEY)
        monkeypatch.setenv("INFLUENCERS_TIKTOK__CLIENT_SECRET", CLIENT_SECRET)
        yield server.url + "/tiktok"


def store(tmp_path: Path) -> TokenStore:
    return TokenStore(tmp_path / "data" / "secrets" / "tiktok_tokens.json")


def test_connect_checks_a_refresh_token_and_stores_the_pair_tiktok_answers(
    tiktok_api: str, world: SimulatedWorld, tmp_path: Path
) -> None:
    account = tiktok_view(world).accounts[0]
    given = connected_refresh_tokens(world)[account.handle][1]

    result = CliRunner().invoke(
        app, ["tiktok", "connect", account.handle, "--refresh-token-stdin"], input=given + "\n"
    )

    assert result.exit_code == 0, result.output
    assert f"{account.handle}: connected (open_id {account.open_id}" in result.output
    stored = store(tmp_path).get(account.handle)
    assert stored is not None
    assert stored.refresh_token != given  # rotated by the check
    assert stored.access_token and stored.access_token_expires_at is not None
    assert stat.S_IMODE(store(tmp_path).path.stat().st_mode) == 0o600
    assert given not in result.output and stored.refresh_token not in result.output
    listed = CliRunner().invoke(app, ["tiktok", "connections"])
    assert listed.exit_code == 0
    assert account.handle in listed.output and "1 creators connected" in listed.output
    assert stored.access_token not in listed.output


def test_connect_exchanges_the_code_of_a_consent(
    tiktok_api: str, world: SimulatedWorld, tmp_path: Path
) -> None:
    account = tiktok_view(world).accounts[1]
    redirect_uri = "https://brand.example/tiktok/callback"
    consent = requests.get(
        f"{tiktok_api}/v2/auth/authorize/",
        params={"client_key": CLIENT_KEY, "redirect_uri": redirect_uri, "username": account.handle},
        allow_redirects=False,
        timeout=10,
    )
    code = parse_qs(urlsplit(consent.headers["Location"]).query)["code"][0]

    result = CliRunner().invoke(
        app,
        ["tiktok", "connect", account.handle, "--code-stdin", "--redirect-uri", redirect_uri],
        input=code,
    )

    assert result.exit_code == 0, result.output
    stored = store(tmp_path).get(account.handle)
    assert stored is not None and stored.open_id == account.open_id


@pytest.mark.parametrize(
    ("arguments", "given", "message"),
    [
        (["tiktok", "connect", "bad handle!", "--refresh-token-stdin"], "rft.x", "is not a TikTok"),
        (["tiktok", "connect", "maya.cooks"], "rft.x", "give exactly one of"),
        (["tiktok", "connect", "maya.cooks", "--refresh-token-stdin"], "", "nothing was read"),
        (["tiktok", "connect", "maya.cooks", "--code-stdin"], "c", "needs --redirect-uri"),
        (
            ["tiktok", "connect", "maya.cooks", "--refresh-token-stdin"],
            "rft.not-one-tiktok-issued",
            "TikTok refused it",
        ),
    ],
    ids=["bad-handle", "no-source", "empty-input", "code-without-uri", "refused"],
)
def test_connect_refuses_with_a_clear_message(
    tiktok_api: str, tmp_path: Path, arguments: list[str], given: str, message: str
) -> None:
    result = CliRunner().invoke(app, arguments, input=given)

    assert result.exit_code == 2
    assert message in result.output
    assert store(tmp_path).handles() == []


def test_disconnect_removes_a_creators_tokens(
    tiktok_api: str, world: SimulatedWorld, tmp_path: Path
) -> None:
    account = tiktok_view(world).accounts[0]
    given = connected_refresh_tokens(world)[account.handle][1]
    CliRunner().invoke(
        app, ["tiktok", "connect", account.handle, "--refresh-token-stdin"], input=given
    )

    result = CliRunner().invoke(app, ["tiktok", "disconnect", account.handle])

    assert result.exit_code == 0 and "tokens removed" in result.output
    assert store(tmp_path).handles() == []


@pytest.mark.parametrize("missing", ["CLIENT_KEY", "CLIENT_SECRET"])
def test_a_tiktok_url_without_the_app_credentials_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    monkeypatch.setenv("INFLUENCERS_TIKTOK__API_URL", "https://open.tiktokapis.com")
    for name in ("CLIENT_KEY", "CLIENT_SECRET"):
        if name != missing:
            monkeypatch.setenv(f"INFLUENCERS_TIKTOK__{name}", "set")

    with pytest.raises(MissingSecretError, match=f"INFLUENCERS_TIKTOK__{missing} is not"):
        Settings()


def test_the_token_store_defaults_under_the_data_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("INFLUENCERS_DATA_DIR", str(tmp_path))
    assert Settings().tiktok_token_file == tmp_path / "secrets" / "tiktok_tokens.json"
    monkeypatch.setenv("INFLUENCERS_TIKTOK__TOKEN_FILE", "/etc/influencers/tiktok.json")
    assert Settings().tiktok_token_file == Path("/etc/influencers/tiktok.json")
    assert "tiktok" in Settings().sources
    assert CLIENT_SECRET not in repr(Settings(tiktok={"client_secret": CLIENT_SECRET}))
