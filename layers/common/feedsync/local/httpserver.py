"""The HTTP server class every local service uses."""

from __future__ import annotations

import socket
from http.server import ThreadingHTTPServer
from typing import Any


class LoopbackServer(ThreadingHTTPServer):
    # The stdlib listens with a backlog of 5: fifty concurrent clients (a double-clicked
    # Start times fifty) would get connection resets instead of answers.
    request_queue_size = 128
    daemon_threads = True

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, addr = super().get_request()
        # Handlers write headers and body separately: without TCP_NODELAY, Nagle's algorithm
        # and the client's delayed ACK add ~40 ms to every keep-alive answer.
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn, addr
