"""A scripted HTTP platform on loopback for the source tests: it answers each path from a table
the test fills, so hostile answers reach the real client over a real socket."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Answer:
    """One scripted answer; ``content_length`` above ``len(body)`` sends a body cut short."""

    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=dict)
    byte_delay: float = 0.0
    content_length: int | None = None


class ScriptedPlatform:
    """A loopback HTTP server answering ``routes[path]`` (the n-th hit gets the n-th answer,
    the last one repeats), counting hits and the bytes of body it managed to send."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, list[Answer]] = {}
        self.hits: dict[str, int] = {}
        self.request_lines: list[str] = []
        self.body_bytes_sent: list[int] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer((host, 0), self._handler())
        self._server.daemon_threads = True
        self.base_url = f"http://{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def answer(self, path: str, *answers: Answer) -> None:
        self.routes[path] = list(answers)

    def start(self) -> ScriptedPlatform:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    @property
    def requests(self) -> int:
        return sum(self.hits.values())

    def _next_answer(self, path: str) -> Answer:
        with self._lock:
            seen = self.hits.get(path, 0)
            self.hits[path] = seen + 1
            answers = self.routes.get(path) or [Answer(404, b'{"error": "no such path"}')]
            return answers[min(seen, len(answers) - 1)]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        platform = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                platform.request_lines.append(self.path)
                answer = platform._next_answer(urlsplit(self.path).path)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                length = answer.content_length
                self.send_header(
                    "Content-Length", str(len(answer.body) if length is None else length)
                )
                if length is not None:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                platform.body_bytes_sent.append(self._send_body(answer))

            def _send_body(self, answer: Answer) -> int:
                if not answer.byte_delay:
                    self.wfile.write(answer.body)
                    return len(answer.body)
                sent = 0
                try:
                    for byte in answer.body:
                        if platform._stopping.wait(answer.byte_delay):
                            break
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        sent += 1
                except OSError:  # the client hung up
                    self.close_connection = True
                return sent

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
