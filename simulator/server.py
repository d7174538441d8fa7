"""`SimulatorServer`: the simulated platforms (`simulator.app`) on a local port, served by
uvicorn in a thread of this process or in a process of its own."""

from __future__ import annotations

import json
import logging
import os
import queue
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from types import TracebackType

import uvicorn
from fastapi import FastAPI

from simulator.app import (
    STATS_PATH,
    Faults,
    PlatformAccess,
    create_app,
    faults_per_dialect,
    redactor,
    served_dialects,
)
from simulator.faults import NO_FAULTS, OTHER_LOOPBACK_HOST, REDIRECT_FAULT
from simulator.graph import DEFAULT_CALLS_PER_MINUTE_BUDGET, USAGE_WINDOW_SECONDS
from simulator.tiktok import TikTokAccess
from simulator.world import SimulatedWorld

log = logging.getLogger(__name__)

# The credentials reach a simulator process through its environment, not its command line
# (which any user of the machine can read in /proc).
ACCESS_TOKEN_ENV = "SIMULATOR_ACCESS_TOKEN"
YOUTUBE_API_KEY_ENV = "SIMULATOR_YOUTUBE_API_KEY"
TIKTOK_CLIENT_KEY_ENV = "SIMULATOR_TIKTOK_CLIENT_KEY"
TIKTOK_CLIENT_SECRET_ENV = "SIMULATOR_TIKTOK_CLIENT_SECRET"
TIKTOK_SIGNING_KEY_ENV = "SIMULATOR_TIKTOK_SIGNING_KEY"
# Idle keep-alive connections are closed after this many seconds.
_KEEP_ALIVE_SECONDS = 30
# stop() waits this long for answers in flight (a trickle could last hours) before cancelling.
_GRACEFUL_STOP_SECONDS = 1
_STOP_TIMEOUT_SECONDS = 10.0


class SimulatorServer:
    """The simulated platforms on a local port, serving one `SimulatedWorld`.

    `in_process=True` (default): uvicorn serves in a daemon thread of this process.
    `in_process=False`: `python -m simulator serve` serves in a child process, which
    rebuilds the world from its (seed, size, anchor) (the world is deterministic), so a
    large world never shares an interpreter with the client; it reports its URL on its
    first line of output and exits with this process.

    Port 0 (default): the OS picks a free port, see `url`. `start()` returns once the
    server accepts connections; `stop()` shuts it down and releases the port;
    `serve_forever()` serves until Ctrl-C. Also a context manager. `faults` as in
    `simulator.app.create_app`; `tiktok` (the app's client key and secret, see
    `simulator.tiktok.TikTokAccess`) serves the TikTok dialect at /tiktok.
    `usage_window_seconds` shortens the window of the Graph API's call budget, for a benchmark
    (see `simulator.graph.graph_router`).
    """

    def __init__(
        self,
        world: SimulatedWorld,
        *,
        access_token: str,
        youtube_api_key: str | None = None,
        tiktok: TikTokAccess | None = None,
        faults: Faults = NO_FAULTS,
        host: str = "127.0.0.1",
        port: int = 0,
        in_process: bool = True,
        calls_per_minute_budget: int = DEFAULT_CALLS_PER_MINUTE_BUDGET,
        usage_window_seconds: float = USAGE_WINDOW_SECONDS,
        startup_timeout_seconds: float = 120.0,
    ) -> None:
        if not access_token:
            raise ValueError("access_token must not be empty")
        self.world = world
        self._access = PlatformAccess(
            access_token, youtube_api_key, calls_per_minute_budget, tiktok, usage_window_seconds
        )
        # Checked now, in either mode: a bad fault name fails here, not in a child process.
        self._faults = faults_per_dialect(faults, served_dialects(self._access))
        self._host = host
        self._port = port
        self._in_process = in_process
        self._startup_timeout = startup_timeout_seconds
        self._redact = redactor(self._access.credentials())
        self._url: str | None = None
        self._app: FastAPI | None = None
        self._uvicorn: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sockets: list[socket.socket] = []
        self._process: subprocess.Popen[str] | None = None

    def __repr__(self) -> str:
        mode = "in-process" if self._in_process else "own process"
        return f"SimulatorServer({self.world!r}, url={self._url!r}, {mode})"

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:54321 (known once started)."""
        if self._url is None:
            raise RuntimeError("the simulator is not running: call start() first")
        return self._url

    @property
    def process_id(self) -> int | None:
        """The serving process's id when it runs in its own process, else None."""
        return self._process.pid if self._process is not None else None

    @property
    def request_count(self) -> int:
        """Number of requests to the dialects answered (or being answered) so far."""
        return self.stats()["request_count"]

    def stats(self) -> dict[str, int]:
        """The serving process's figures (see `simulator.app`): request_count,
        other_host_request_count, peak_rss_bytes."""
        if self._app is not None:
            stats: dict[str, int] = self._app.state.simulator_stats.as_json()
            return stats
        with urllib.request.urlopen(self.url + STATS_PATH, timeout=10) as answer:
            fetched: dict[str, int] = json.load(answer)
            return fetched

    def redact(self, text: str) -> str:
        """`text` with every credential (and any access_token= or key= value) as ***."""
        return self._redact(text)

    def start(self) -> SimulatorServer:
        """Serve in a thread or a child process; returns self once it accepts connections."""
        if self._url is not None:
            raise RuntimeError("the simulator is already running")
        if self._in_process:
            self._start_thread()
        else:
            self._start_process()
        return self

    def stop(self) -> None:
        """Stop serving and release the port (idempotent)."""
        if self._uvicorn is not None and self._thread is not None:
            self._uvicorn.should_exit = True
            self._thread.join(_STOP_TIMEOUT_SECONDS)
            if self._thread.is_alive():
                log.warning("simulator thread still running %ss after stop", _STOP_TIMEOUT_SECONDS)
        for listening in self._sockets:
            listening.close()
        if self._process is not None:
            self._stop_process(self._process)
        self._sockets, self._uvicorn, self._thread, self._app = [], None, None, None
        self._process, self._url = None, None

    def serve_forever(self) -> None:
        """Serve (start first if needed) until interrupted (Ctrl-C), then stop."""
        if self._url is None:
            self.start()
        try:
            while True:
                if self._thread is not None:
                    self._thread.join(0.5)
                    if not self._thread.is_alive():
                        return
                elif self._process is not None:
                    self._process.wait()
                    return
                else:
                    return
        except KeyboardInterrupt:
            log.info("simulator interrupted; shutting down")
        finally:
            self.stop()

    def _start_thread(self) -> None:
        app = create_app(
            self.world,
            access_token=self._access.access_token,
            youtube_api_key=self._access.youtube_api_key,
            tiktok=self._access.tiktok,
            faults=self._faults,
            calls_per_minute_budget=self._access.calls_per_minute_budget,
            usage_window_seconds=self._access.usage_window_seconds,
        )
        sockets = _listening_sockets(self._host, self._port, redirects=self._redirects())
        config = uvicorn.Config(
            app,
            # The host process's logging stays its own; uvicorn's access log would print the
            # token (the app logs each request, redacted, at DEBUG instead).
            log_config=None,
            access_log=False,
            lifespan="off",
            loop="asyncio",
            http="h11",
            ws="none",
            server_header=False,
            timeout_keep_alive=_KEEP_ALIVE_SECONDS,
            timeout_graceful_shutdown=_GRACEFUL_STOP_SECONDS,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": sockets}, name="simulator", daemon=True
        )
        self._app, self._uvicorn, self._thread, self._sockets = app, server, thread, sockets
        self._url = _url_of(sockets[0])
        thread.start()
        deadline = time.monotonic() + self._startup_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the simulator did not start serving; see the log above")
            time.sleep(0.005)

    def _start_process(self) -> None:
        world = self.world
        command = [
            sys.executable,
            "-m",
            "simulator",
            "serve",
            f"--host={self._host}",
            f"--port={self._port}",
            f"--seed={world.seed}",
            f"--size={world.size}",
            f"--anchor={world.anchor.isoformat()}",
            f"--calls-per-minute-budget={self._access.calls_per_minute_budget}",
            f"--usage-window-seconds={self._access.usage_window_seconds}",
            "--faults",
            json.dumps({name: faults.to_json() for name, faults in self._faults.items()}),
            "--exit-with-parent",
            # Its errors reach this process's standard error; its chatter does not.
            "--log-level=WARNING",
        ]
        environment = {**os.environ, ACCESS_TOKEN_ENV: self._access.access_token}
        if self._access.youtube_api_key is not None:
            environment[YOUTUBE_API_KEY_ENV] = self._access.youtube_api_key
        tiktok = self._access.tiktok
        if tiktok is not None:
            environment[TIKTOK_CLIENT_KEY_ENV] = tiktok.client_key
            environment[TIKTOK_CLIENT_SECRET_ENV] = tiktok.client_secret
            if tiktok.signing_key is not None:
                environment[TIKTOK_SIGNING_KEY_ENV] = tiktok.signing_key
            command += [
                f"--tiktok-access-token-seconds={tiktok.access_token_seconds}",
                f"--tiktok-requests-per-window={tiktok.requests_per_window}",
                f"--tiktok-window-seconds={tiktok.window_seconds}",
            ]
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=environment, text=True
        )
        assert process.stdout is not None
        first_lines: queue.Queue[str] = queue.Queue()
        reader = threading.Thread(
            target=lambda: first_lines.put(process.stdout.readline() if process.stdout else ""),
            daemon=True,
        )
        reader.start()
        try:
            line = first_lines.get(timeout=self._startup_timeout).strip()
        except queue.Empty:
            line = ""
        if not line.startswith("http://"):
            self._stop_process(process)
            raise RuntimeError(
                f"the simulator process did not report its URL (exit code {process.returncode}); "
                "see its error output above"
            )
        self._process, self._url = process, line

    def _redirects(self) -> bool:
        return any(
            REDIRECT_FAULT in faults.account_faults.values() for faults in self._faults.values()
        )

    @staticmethod
    def _stop_process(process: subprocess.Popen[str]) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(_STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                pipe.close()


def _listening_sockets(host: str, port: int, *, redirects: bool) -> list[socket.socket]:
    """A socket listening on (host, port), bound now so the port is known before serving;
    with `redirects`, a second one on OTHER_LOOPBACK_HOST and the same port, where the
    `redirect_other_host` fault sends clients (best effort: not every system routes it)."""
    primary = _listen(host, port)
    sockets = [primary]
    if redirects and host != OTHER_LOOPBACK_HOST:
        bound_port = primary.getsockname()[1]
        try:
            sockets.append(_listen(OTHER_LOOPBACK_HOST, bound_port))
        except OSError as error:
            log.warning(
                "cannot listen on %s:%s (%s): redirected requests will be refused",
                OTHER_LOOPBACK_HOST,
                bound_port,
                error,
            )
    return sockets


def _listen(host: str, port: int) -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP,
    # and without it every answer (headers and body go out in two writes) waits ~40 ms for
    # the client's delayed ACK.
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        # A fixed port can be served again right after a stop (TIME_WAIT).
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind((host, port))
        listening.listen(2048)
    except OSError:
        listening.close()
        raise
    return listening


def _url_of(listening: socket.socket) -> str:
    host, port = listening.getsockname()[:2]
    return f"http://{host}:{port}"
