"""The HTTP server class every local service uses."""

from __future__ import annotations

from http.server import ThreadingHTTPServer


class LoopbackServer(ThreadingHTTPServer):
    # The stdlib listens with a backlog of 5: fifty concurrent clients (a double-clicked
    # Start times fifty) would get connection resets instead of answers.
    request_queue_size = 128
    daemon_threads = True
