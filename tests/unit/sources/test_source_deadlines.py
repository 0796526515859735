"""Wall-clock limits across a whole transfer, against loopback servers that trickle bytes
just inside each read timeout: a preview's download (HTTP, FTP) ends with a 422 saying the
server was too slow; a scheduled probe's FTP hash ends as "cannot tell" (the run decides).
Small limits here (a second or less), no long sleeps."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler, ThrottledDTPHandler
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import FTPServer

from feedsync.adapters.ftp_source import FtpSourceFetcher
from feedsync.adapters.http_source import (
    Deadline,
    HashSink,
    HttpSourceFetcher,
    TransferDeadline,
)
from feedsync.adapters.sftp_source import RemoteSourceFetcher, _copy
from feedsync.core import file_preview
from feedsync.domain.source_state import ProbedSource, verdict
from feedsync.errors import InvalidRequest
from feedsync.models.file_preview import FilePreviewBody
from feedsync_local.httpserver import LoopbackServer
from tests.unit.core.fakes import World

TRICKLE = 8  # bytes, one every TICK seconds: about 2 s for the whole file
TICK = 0.25
# Each read waits at most 1 s (a byte comes every 0.25 s: no read times out); 1 s in all.
LIMITS: dict[str, Any] = {"allow_private": True, "connect_timeout_s": 1, "read_timeout_s": 1}
# The throttled FTP server pauses about 1 s between its 1 KB sends: reads wait up to 3 s.
FTP_LIMITS = LIMITS | {"read_timeout_s": 3}


class Trickling:
    """A supplier web server that sends its file one byte at a time."""

    def __init__(self) -> None:
        self.sent = 0

        served = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", str(TRICKLE))
                self.end_headers()
                try:
                    for _ in range(TRICKLE):
                        self.wfile.write(b"x")
                        self.wfile.flush()
                        served.sent += 1
                        time.sleep(TICK)
                except OSError:
                    pass  # the client hung up

        self.server = LoopbackServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/stock.csv"


@pytest.fixture
def trickling() -> Iterator[Trickling]:
    served = Trickling()
    threading.Thread(target=served.server.serve_forever, daemon=True).start()
    yield served
    served.server.shutdown()


def test_a_preview_of_a_trickling_url_stops_at_its_deadline(
    trickling: Trickling, tmp_path: Path
) -> None:
    # Given the preview's fetcher with a 1 s limit for the whole download
    world = World(str(tmp_path))
    world.deps.preview_fetcher = HttpSourceFetcher(**LIMITS, total_timeout_s=1.0)
    body = FilePreviewBody.model_validate({"source": {"type": "url", "url": trickling.url}})
    # When a server sending a byte every 0.25 s (inside each 1 s read timeout) is previewed
    with pytest.raises(InvalidRequest) as refused:
        file_preview.preview(world.deps, world.tenant, body)
    # Then the preview is a 422 naming the source and the limit, before the file's end
    assert refused.value.field == "source"
    assert "the server did not send the file within 1 s" in refused.value.message
    assert trickling.sent < TRICKLE


def test_without_a_deadline_the_same_server_is_read_to_the_end(
    trickling: Trickling, tmp_path: Path
) -> None:
    # Given a fetcher with read timeouts only (a run's Fetch), When the file trickles in
    got = HttpSourceFetcher(**LIMITS).fetch_url(trickling.url, str(tmp_path))
    # Then it is read whole (each byte came within the read timeout)
    assert got.size == TRICKLE


# ------------------------------------------------------------------------------ FTP
class _NoTimeHandler(FTPHandler):
    """No MLST/MLSD, no MDTM: a probe can only hash the file."""

    proto_cmds = {
        k: v for k, v in FTPHandler.proto_cmds.items() if k not in ("MLSD", "MLST", "MDTM")
    }


@pytest.fixture(scope="module")
def slow_ftp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A server without times whose downloads go at 1 KB/s, holding an 8 KB file."""
    root = tmp_path_factory.mktemp("ftp-slow")
    (root / "stock.csv").write_bytes(b"SKU,Qty\n" + b"A-1,9\n" * 1400)
    auth = DummyAuthorizer()
    auth.add_user("supplier", "slow-pw", str(root), perm="elr")
    dtp = type("SlowDtp", (ThrottledDTPHandler,), {"write_limit": 1024})
    handler = type("Handler", (_NoTimeHandler,), {"authorizer": auth, "dtp_handler": dtp})
    server = FTPServer(("127.0.0.1", 0), handler, ioloop=IOLoop())
    thread = threading.Thread(target=server.serve_forever, kwargs={"timeout": 0.2}, daemon=True)
    thread.start()
    yield int(server.address[1])
    server.close_all()


def test_a_probe_hash_over_its_time_budget_cannot_tell(slow_ftp: int) -> None:
    # Given a server without times that sends at 1 KB/s, and a probe allowed 0.5 s to hash
    fetcher = FtpSourceFetcher(**FTP_LIMITS, probe_hash_s=0.5)
    # When it is probed
    probed = fetcher.probe("127.0.0.1", slow_ftp, "/stock.csv", "supplier", "slow-pw", tls="none")
    # Then it stopped hashing at the budget and cannot tell: the run starts, Fetch decides
    assert probed.sha256 is None and probed.mtime is None
    last = {"url": "ftp://h/stock.csv", "size": probed.size, "sha256": "aa"}
    assert verdict(last, ProbedSource(location=last["url"], size=probed.size)) == "unknown"


def test_a_preview_of_a_slow_ftp_server_stops_at_its_deadline(
    slow_ftp: int, tmp_path: Path
) -> None:
    # Given the preview's remote fetcher with a 1 s limit for the whole download
    world = World(str(tmp_path))
    world.deps.preview_remote = RemoteSourceFetcher(**FTP_LIMITS, total_timeout_s=1.0)
    source = {"type": "ftp", "host": "127.0.0.1", "port": slow_ftp, "path": "/stock.csv",
              "username": "supplier", "credentials": {"password": "slow-pw"}}  # fmt: skip
    body = FilePreviewBody.model_validate({"source": source})
    # When the 8 KB file that comes at 1 KB/s is previewed
    with pytest.raises(InvalidRequest) as refused:
        file_preview.preview(world.deps, world.tenant, body)
    # Then it is a 422 naming the source and the limit
    assert refused.value.field == "source"
    assert "the server did not send the file within 1 s" in refused.value.message


# ----------------------------------------------------------------------------- SFTP
class _SlowSftpFile:
    """An SFTP file whose every block takes 0.2 s of the (fake) clock to arrive."""

    def __init__(self, clock: list[float], blocks: int) -> None:
        self.clock, self.left = clock, blocks
        self.sftp = self  # (the client: no channel to bound)

    def get_channel(self) -> None:
        return None

    def readv(self, chunks: list[tuple[int, int]]) -> Iterator[bytes]:
        for _offset, length in chunks:
            self.clock[0] += 0.2
            yield b"x" * length

    def seek(self, offset: int) -> None:
        pass

    def read(self, size: int) -> bytes:
        return b""


def test_an_sftp_copy_stops_at_its_sinks_deadline() -> None:
    # Given a sink allowed 1 s of a clock, and a 1 MB file coming a block per 0.2 s
    now = [0.0]
    sink = HashSink(
        10**9, "sftp://h/stock.csv", Deadline(1.0, "sftp://h/stock.csv", lambda: now[0])
    )
    handle = _SlowSftpFile(now, blocks=32)
    # When it is copied, Then the copy stops at the deadline, naming the server and limit
    with pytest.raises(TransferDeadline) as stopped:
        _copy(handle, 32 * 32 * 1024, sink, read_s=10)  # type: ignore[arg-type]
    assert stopped.value.message == (
        "sftp://h/stock.csv: the server did not send the file within 1 s"
    )
    assert sink.size < 32 * 32 * 1024


# ------------------------------------------------------- greetings that never end
# Each read may wait 5 s, the whole preview 1 s: only the deadline can end it at 1 s.
SLOW_READS = LIMITS | {"read_timeout_s": 5}
# Bytes the greeting server sends in 2 s: cut off before that, it was the deadline's doing.
BEFORE_READ_TIMEOUTS = int(2 / TICK)


class TricklingGreeting:
    """A server that accepts a connection and sends its greeting a byte every TICK seconds
    for about 10 s, never ending the line: each read gets a byte within its timeout."""

    def __init__(self, greeting: bytes) -> None:
        self.greeting = greeting
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.cut_off = threading.Event()  # the client hung up before the greeting ended
        self.sent = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            conn, _ = self.listener.accept()
        with conn:
            for byte in (self.greeting * 40)[:40]:
                try:
                    conn.sendall(bytes([byte]))
                    self.sent += 1
                    time.sleep(TICK)
                    if conn.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"":
                        break  # the client hung up
                except BlockingIOError:
                    continue  # nothing from the client: still connected
                except OSError:
                    break  # reset by the client
            else:
                return  # the whole greeting went out: never cut off
            self.cut_off.set()

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def greeting_servers() -> Iterator[list[TricklingGreeting]]:
    made: list[TricklingGreeting] = []
    yield made
    for server in made:
        server.close()


def _trickling(made: list[TricklingGreeting], greeting: bytes) -> int:
    made.append(TricklingGreeting(greeting))
    return made[-1].port


def test_an_sftp_greeting_that_never_ends_stops_at_the_previews_deadline(
    greeting_servers: list[TricklingGreeting],
) -> None:
    # Given an "SSH server" that sends its greeting a byte at a time and never finishes it,
    # and the preview's fetcher allowed 1 s in all
    port = _trickling(greeting_servers, b"SSH-2.0-OpenSSH_9.6 ")
    fetcher = RemoteSourceFetcher(**SLOW_READS, total_timeout_s=1.0)
    source = SimpleNamespace(type="sftp", host="127.0.0.1", port=port, path="/stock.csv",
                             username="supplier", host_key_fingerprint="SHA256:abc")  # fmt: skip
    # When the file is fetched
    # Then it stops at the deadline (not 10 s later), naming the server and the limit
    with pytest.raises(TransferDeadline) as stopped:
        fetcher.fetch(source, {"password": "pw"}, "/tmp")
    assert stopped.value.message.startswith(f"sftp://127.0.0.1:{port}/stock.csv:")
    assert "within 1 s" in stopped.value.message
    # And the connection was cut while the server was still greeting, at the deadline
    assert greeting_servers[0].cut_off.wait(2)
    assert greeting_servers[0].sent <= BEFORE_READ_TIMEOUTS


def test_an_sftp_host_key_look_up_stops_at_the_deadline_too(
    greeting_servers: list[TricklingGreeting],
) -> None:
    # Given the same endless greeting, and the preview asking which host key it presents
    port = _trickling(greeting_servers, b"SSH-2.0-OpenSSH_9.6 ")
    fetcher = RemoteSourceFetcher(**SLOW_READS, total_timeout_s=1.0)
    source = SimpleNamespace(type="sftp", host="127.0.0.1", port=port)
    # When the key is looked up, Then it stops at the deadline
    with pytest.raises(TransferDeadline, match="within 1 s"):
        fetcher.host_key(source)
    assert greeting_servers[0].cut_off.wait(2)
    assert greeting_servers[0].sent <= BEFORE_READ_TIMEOUTS


def test_an_ftp_greeting_that_never_ends_stops_at_the_previews_deadline(
    greeting_servers: list[TricklingGreeting],
) -> None:
    # Given an "FTP server" whose 220 greeting never ends, and a 1 s limit in all
    port = _trickling(greeting_servers, b"220 welcome ")
    fetcher = RemoteSourceFetcher(**SLOW_READS, total_timeout_s=1.0)
    source = SimpleNamespace(type="ftp", host="127.0.0.1", port=port, path="/stock.csv",
                             username="supplier")  # fmt: skip
    # When the file is fetched, Then it stops at the deadline naming the server
    with pytest.raises(TransferDeadline) as stopped:
        fetcher.fetch(source, {"password": "pw"}, "/tmp")
    assert stopped.value.message.startswith(f"ftp://127.0.0.1:{port}/stock.csv:")
    assert greeting_servers[0].cut_off.wait(2)
    assert greeting_servers[0].sent <= BEFORE_READ_TIMEOUTS
