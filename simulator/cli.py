"""`python -m simulator serve|truth`: the simulated platforms without the pipeline.

`serve` prints the base URL as its first line of standard output (a parent process reads
it: that is how `SimulatorServer(in_process=False)` learns the port), then logs to
standard error only. The credentials come from --token / --youtube-api-key or, better
(a command line is visible to every user of the machine), from the environment variables
SIMULATOR_ACCESS_TOKEN / SIMULATOR_YOUTUBE_API_KEY; the TikTok dialect is served when
SIMULATOR_TIKTOK_CLIENT_KEY and SIMULATOR_TIKTOK_CLIENT_SECRET are set (and signs its tokens
with SIMULATOR_TIKTOK_SIGNING_KEY, or a key derived from the world).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import date
from types import FrameType

from simulator.faults import FaultConfig
from simulator.graph import DEFAULT_CALLS_PER_MINUTE_BUDGET, USAGE_WINDOW_SECONDS
from simulator.server import (
    ACCESS_TOKEN_ENV,
    TIKTOK_CLIENT_KEY_ENV,
    TIKTOK_CLIENT_SECRET_ENV,
    TIKTOK_SIGNING_KEY_ENV,
    YOUTUBE_API_KEY_ENV,
    SimulatorServer,
)
from simulator.tiktok import (
    DEFAULT_ACCESS_TOKEN_SECONDS,
    DEFAULT_REQUESTS_PER_WINDOW,
    DEFAULT_WINDOW_SECONDS,
    TikTokAccess,
)
from simulator.truth import write_truth
from simulator.world import DEFAULT_ANCHOR, DEFAULT_SEED, DEFAULT_SIZE, SimulatedWorld


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    world = SimulatedWorld(seed=arguments.seed, size=arguments.size, anchor=arguments.anchor)
    if arguments.command == "truth":
        rows = write_truth(world, arguments.path)
        print(f"wrote {rows} rows of ground truth to {arguments.path}", file=sys.stderr)
        return 0
    return _serve(world, arguments)


def _serve(world: SimulatedWorld, arguments: argparse.Namespace) -> int:
    logging.basicConfig(
        level=arguments.log_level, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s"
    )
    token = arguments.token or os.environ.get(ACCESS_TOKEN_ENV)
    generated = token is None
    token = token or secrets.token_urlsafe(24)
    server = SimulatorServer(
        world,
        access_token=token,
        youtube_api_key=arguments.youtube_api_key or os.environ.get(YOUTUBE_API_KEY_ENV),
        tiktok=_tiktok(arguments),
        faults=_faults(arguments.faults),
        host=arguments.host,
        port=arguments.port,
        calls_per_minute_budget=arguments.calls_per_minute_budget,
        usage_window_seconds=arguments.usage_window_seconds,
    ).start()
    stopping = threading.Event()

    def stop(signal_number: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(server.url, flush=True)
    # Nothing else may go to standard output: a parent reads its first line only.
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    logging.getLogger(__name__).info(
        "serving %d creators at %s%s",
        len(world.creators),
        server.url,
        f" (access token {token})" if generated else "",
    )
    if arguments.exit_with_parent:
        threading.Thread(target=_set_at_end_of_input, args=(stopping,), daemon=True).start()
    while not stopping.wait(0.5):
        pass
    server.stop()
    return 0


def _set_at_end_of_input(event: threading.Event) -> None:
    # The parent holds our standard input open: end of input means it is gone.
    for _ in sys.stdin:
        pass
    event.set()


def _tiktok(arguments: argparse.Namespace) -> TikTokAccess | None:
    client_key = os.environ.get(TIKTOK_CLIENT_KEY_ENV)
    client_secret = os.environ.get(TIKTOK_CLIENT_SECRET_ENV)
    if not client_key or not client_secret:
        return None
    return TikTokAccess(
        client_key=client_key,
        client_secret=client_secret,
        access_token_seconds=arguments.tiktok_access_token_seconds,
        requests_per_window=arguments.tiktok_requests_per_window,
        window_seconds=arguments.tiktok_window_seconds,
        signing_key=os.environ.get(TIKTOK_SIGNING_KEY_ENV) or None,
    )


def _faults(text: str | None) -> dict[str, FaultConfig]:
    if not text:
        return {}
    per_dialect = json.loads(text)
    return {name: FaultConfig.from_json(values) for name, values in per_dialect.items()}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve every simulated platform until stopped")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind")
    serve.add_argument("--port", type=int, default=8765, help="port (0: any free port)")
    serve.add_argument("--token", help=f"access token to accept (default: ${ACCESS_TOKEN_ENV})")
    serve.add_argument(
        "--youtube-api-key", help=f"YouTube API key to accept (default: ${YOUTUBE_API_KEY_ENV})"
    )
    serve.add_argument(
        "--calls-per-minute-budget", type=int, default=DEFAULT_CALLS_PER_MINUTE_BUDGET
    )
    serve.add_argument(
        "--usage-window-seconds",
        type=float,
        default=USAGE_WINDOW_SECONDS,
        help="window of the Graph API's call budget; shorter than a minute for benchmarks only",
    )
    serve.add_argument(
        "--tiktok-access-token-seconds",
        type=int,
        default=DEFAULT_ACCESS_TOKEN_SECONDS,
        help="lifetime (expires_in) of the TikTok access tokens issued",
    )
    serve.add_argument(
        "--tiktok-requests-per-window", type=int, default=DEFAULT_REQUESTS_PER_WINDOW
    )
    serve.add_argument("--tiktok-window-seconds", type=float, default=DEFAULT_WINDOW_SECONDS)
    serve.add_argument(
        "--faults",
        help='JSON: dialect -> FaultConfig fields, e.g. {"instagram": {"error_rate": 0.1, '
        '"account_faults": {"some.handle": "html_502"}}}',
    )
    serve.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    serve.add_argument(
        "--exit-with-parent",
        action="store_true",
        help="stop when standard input closes (the parent process ended)",
    )
    truth = commands.add_parser("truth", help="write the world's ground truth as CSV")
    truth.add_argument("path", help="where to write the CSV")
    for command in (serve, truth):
        command.add_argument("--seed", type=int, default=DEFAULT_SEED)
        command.add_argument("--size", type=int, default=DEFAULT_SIZE)
        command.add_argument("--anchor", type=date.fromisoformat, default=DEFAULT_ANCHOR)
    return parser
