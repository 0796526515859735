"""Source probes against real servers (conftest.py): what an automatic fire asks before a run.

HTTP: one conditional GET, headers only (nginx, and a loopback server that counts what it
sent). FTP: one MLST, else SIZE + MDTM, else the file hashed as it streams (pyftpdlib).
SFTP: one stat, the host key pinned (OpenSSH).
"""

from __future__ import annotations

import ftplib
import hashlib
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import FTPServer

from feedsync.adapters.ftp_source import FtpSourceFetcher
from feedsync.adapters.http_source import HttpSourceFetcher
from feedsync.adapters.sftp_source import SftpSourceFetcher
from feedsync.domain.source_state import CHANGED, UNCHANGED, ProbedSource, verdict
from feedsync.errors import SourceAuthError, SourceHostKeyMismatch, SourceNotFound
from feedsync_local.httpserver import LoopbackServer

if TYPE_CHECKING:  # fixtures' types; conftest is not importable by name in a full run
    from conftest import FtpServers, Nginx, Sshd

OPTIONS: dict[str, Any] = {"allow_private": True, "connect_timeout_s": 5, "read_timeout_s": 10}
BIG = 64 * 1024 * 1024  # far more than loopback socket buffers hold


# ----------------------------------------------------------------------------- HTTP
def test_nginx_answers_the_last_files_validators_with_304(nginx: Nginx, tmp_path: Path) -> None:
    # Given a file fetched once (its ETag and Last-Modified kept as the last file)
    (nginx.root / "probe-304.csv").write_bytes(b"SKU,Qty\nA-1,4\n")
    url = f"http://127.0.0.1:{nginx.port}/probe-304.csv"
    got = HttpSourceFetcher(**OPTIONS).fetch_url(url, str(tmp_path))
    last = {"url": url, "etag": got.etag, "last_modified": got.last_modified}
    # When it is probed with them
    probed = HttpSourceFetcher(**OPTIONS).probe_url(url, last)
    # Then nginx said 304: unchanged
    assert probed == ProbedSource(location=url, not_modified=True)
    assert verdict(last, probed) == UNCHANGED


def test_a_republished_file_is_a_200_with_its_new_etag(nginx: Nginx, tmp_path: Path) -> None:
    # Given the last file's validators, then the supplier publishes a new file
    path = nginx.root / "probe-new.csv"
    path.write_bytes(b"SKU,Qty\nA-1,4\n")
    os.utime(path, (1_700_000_000, 1_700_000_000))
    url = f"http://127.0.0.1:{nginx.port}/probe-new.csv"
    got = HttpSourceFetcher(**OPTIONS).fetch_url(url, str(tmp_path))
    last = {"url": url, "etag": got.etag, "last_modified": got.last_modified}
    path.write_bytes(b"SKU,Qty\nA-1,5\n")
    # When it is probed
    probed = HttpSourceFetcher(**OPTIONS).probe_url(url, last)
    # Then the answer's new validators say it changed
    assert not probed.not_modified and probed.etag not in (None, got.etag)
    assert verdict(last, probed) == CHANGED


def test_a_probe_takes_the_fetchers_auth_and_fails_as_it_does(nginx: Nginx) -> None:
    # Given a file behind bearer auth
    url = f"http://127.0.0.1:{nginx.port}/bearer/feed.csv"
    # When probed with the token, Then it answers (no last file: a plain 200)
    probed = HttpSourceFetcher(**OPTIONS).probe_url(
        url, None, {"type": "bearer", "token": nginx.bearer}
    )
    assert probed.etag is not None
    # When probed with a wrong token, Then the credentials are refused, the token hidden
    with pytest.raises(SourceAuthError, match="refused the credentials") as refused:
        HttpSourceFetcher(**OPTIONS).probe_url(url, None, {"type": "bearer", "token": "wrong-tok"})
    assert "wrong-tok" not in refused.value.message
    # And a missing file is not found
    with pytest.raises(SourceNotFound):
        HttpSourceFetcher(**OPTIONS).probe_url(f"http://127.0.0.1:{nginx.port}/nope.csv")


class Counting:
    """A supplier that answers every GET 200 with a big body and counts requests and the
    bytes it got out before the client hung up."""

    def __init__(self, *, validators: bool) -> None:
        self.requests = 0
        self.sent = 0
        self.done = threading.Event()
        served = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                served.requests += 1
                self.send_response(200)
                self.send_header("Content-Length", str(BIG))
                if validators:
                    self.send_header("ETag", '"v2"')
                self.end_headers()
                chunk = b"x" * 65536
                try:
                    while served.sent < BIG:
                        self.wfile.write(chunk)
                        served.sent += len(chunk)
                except OSError:
                    pass  # the client closed the connection
                finally:
                    served.done.set()

        self.server = LoopbackServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/stock.csv"


@pytest.fixture(params=[True, False], ids=["etag", "no-validators"])
def counting(request: pytest.FixtureRequest) -> Iterator[Counting]:
    served = Counting(validators=request.param)
    threading.Thread(target=served.server.serve_forever, daemon=True).start()
    yield served
    served.server.shutdown()


def test_a_probe_is_one_request_and_never_reads_the_body(counting: Counting) -> None:
    # Given a server that answers 200 with a 64 MB file
    last = {"url": counting.url, "etag": '"v1"'}
    # When it is probed
    probed = HttpSourceFetcher(**OPTIONS).probe_url(counting.url, last)
    # Then one request was sent and the connection closed long before the body's end
    assert counting.done.wait(30), "the server is still sending: the body was read"
    assert counting.requests == 1 and counting.sent < BIG
    # And a server without validators cannot tell (the run decides), one with a new one
    # says changed
    assert verdict(last, probed) == ("changed" if probed.etag else "unknown")


# ------------------------------------------------------------------------------ FTP
@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The FTP commands the client sends (their verbs), login aside."""
    verbs: list[str] = []
    real = ftplib.FTP.putcmd

    def putcmd(self: ftplib.FTP, line: str) -> None:
        verbs.append(line.split(" ", 1)[0].upper())
        real(self, line)

    monkeypatch.setattr(ftplib.FTP, "putcmd", putcmd)
    return verbs


def ftp_probe(port: int, path: str, servers_user: str, password: str) -> ProbedSource:
    return FtpSourceFetcher(**OPTIONS).probe(
        "127.0.0.1", port, path, servers_user, password, tls="none"
    )


def lookups(verbs: list[str]) -> list[str]:
    return [v for v in verbs if v in ("MLST", "MLSD", "NLST", "SIZE", "MDTM", "RETR", "LIST")]


def test_ftp_gives_size_and_time_in_one_mlst(ftp_servers: FtpServers, sent: list[str]) -> None:
    # Given a file on a server with MLST
    path = ftp_servers.root / "out" / "probe-mlst.csv"
    path.write_bytes(b"SKU,Qty\nA-1,7\n")
    os.utime(path, (1_700_000_000, 1_700_000_000))
    # When it is probed
    probed = ftp_probe(
        ftp_servers.plain, "/out/probe-mlst.csv", ftp_servers.user, ftp_servers.password
    )
    # Then one MLST told its size and modification time; nothing was downloaded
    assert (probed.remote_path, probed.size, probed.mtime) == (
        "/out/probe-mlst.csv",
        14,
        1_700_000_000,
    )
    assert probed.sha256 is None and lookups(sent) == ["MLST"]


def test_ftp_without_mlst_takes_size_and_mdtm(ftp_servers: FtpServers, sent: list[str]) -> None:
    # Given a server without MLST/MLSD
    path = ftp_servers.root / "out" / "probe-mdtm.csv"
    path.write_bytes(b"SKU,Qty\nA-1,8\n")
    os.utime(path, (1_700_000_500, 1_700_000_500))
    # When a file on it is probed
    probed = ftp_probe(
        ftp_servers.no_mlsd, "/out/probe-mdtm.csv", ftp_servers.user, ftp_servers.password
    )
    # Then SIZE and MDTM told it (MLST refused first)
    assert (probed.size, probed.mtime) == (14, 1_700_000_500)
    assert lookups(sent) == ["MLST", "SIZE", "MDTM"]


def test_ftp_glob_is_one_listing_for_the_newest_match(
    ftp_servers: FtpServers, sent: list[str]
) -> None:
    # When the conftest's stock_*.csv glob is probed, Then one MLSD found the newest match
    probed = ftp_probe(
        ftp_servers.plain, "/out/stock_*.csv", ftp_servers.user, ftp_servers.password
    )
    assert probed.remote_path == "/out/stock_2024-03.csv" and probed.mtime == 1_700_200_000
    assert lookups(sent) == ["MLSD"]


class _NoTimeHandler(FTPHandler):
    """A server that gives no modification time at all: no MLST/MLSD, no MDTM."""

    proto_cmds = {
        k: v for k, v in FTPHandler.proto_cmds.items() if k not in ("MLSD", "MLST", "MDTM")
    }


@pytest.fixture(scope="module")
def no_time_ftp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    root = tmp_path_factory.mktemp("ftp-no-time")
    auth = DummyAuthorizer()
    auth.add_user("supplier", "no-time-pw", str(root), perm="elr")
    handler = type("Handler", (_NoTimeHandler,), {"authorizer": auth})
    server = FTPServer(("127.0.0.1", 0), handler, ioloop=IOLoop())
    thread = threading.Thread(target=server.serve_forever, kwargs={"timeout": 0.2}, daemon=True)
    thread.start()
    yield int(server.address[1]), root
    server.close_all()


def test_ftp_without_any_time_hashes_the_file_streamed(
    no_time_ftp: tuple[int, Path], sent: list[str]
) -> None:
    # Given a server with neither MLST nor MDTM, and the last file's sha256
    port, root = no_time_ftp
    data = b"SKU,Qty\nA-1,9\n"
    (root / "stock.csv").write_bytes(data)
    last = {
        "url": "ftp://127.0.0.1/stock.csv",
        "size": 14,
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    # When it is probed
    probed = ftp_probe(port, "/stock.csv", "supplier", "no-time-pw")
    # Then the file was read through once and hashed: the same file is unchanged
    assert lookups(sent) == ["MLST", "SIZE", "MDTM", "RETR"]
    assert probed.mtime is None and probed.sha256 == hashlib.sha256(data).hexdigest()
    named = ProbedSource(location=last["url"], size=probed.size, sha256=probed.sha256)
    assert verdict(last, named) == UNCHANGED
    # When the supplier rewrites it, Then the hash says it changed
    (root / "stock.csv").write_bytes(b"SKU,Qty\nA-1,1\n")
    again = ftp_probe(port, "/stock.csv", "supplier", "no-time-pw")
    assert (
        verdict(last, ProbedSource(location=last["url"], size=again.size, sha256=again.sha256))
        == CHANGED
    )


def test_a_file_too_big_to_hash_cheaply_cannot_be_told(
    no_time_ftp: tuple[int, Path], sent: list[str]
) -> None:
    # Given a server without times and a file over the probe's hashing limit
    port, root = no_time_ftp
    (root / "large.csv").write_bytes(b"SKU,Qty\n" + b"A-1,9\n" * 10)
    fetcher = FtpSourceFetcher(**OPTIONS, probe_hash_max_bytes=32)
    # When it is probed
    probed = fetcher.probe("127.0.0.1", port, "/large.csv", "supplier", "no-time-pw", tls="none")
    # Then nothing was downloaded and the verdict is "cannot tell": the run decides
    assert "RETR" not in lookups(sent) and probed.sha256 is None and probed.mtime is None
    last = {"url": "ftp://h/large.csv", "size": 68, "sha256": "aa"}
    named = ProbedSource(location="ftp://h/large.csv", size=probed.size)
    assert verdict(last, named) == "unknown"


def test_ftp_probe_fails_as_a_fetch_does(ftp_servers: FtpServers) -> None:
    # A wrong password is refused (and hidden); a missing file is not found
    with pytest.raises(SourceAuthError) as refused:
        ftp_probe(ftp_servers.plain, "/out/prices.csv", ftp_servers.user, "wrong-password-1")
    assert "wrong-password-1" not in refused.value.message
    with pytest.raises(SourceNotFound):
        ftp_probe(ftp_servers.plain, "/out/nope.csv", ftp_servers.user, ftp_servers.password)


# ----------------------------------------------------------------------------- SFTP
def sftp_probe(sshd: Sshd, path: str, fingerprint: str | None = None) -> ProbedSource:
    return SftpSourceFetcher(**OPTIONS).probe(
        "127.0.0.1",
        sshd.port,
        path,
        sshd.user,
        host_key_fingerprint=fingerprint or sshd.fingerprints["ed25519"],
        password=sshd.password,
    )


def test_sftp_stat_gives_size_and_time(sshd: Sshd) -> None:
    # Given a file on the supplier's SFTP server
    path = sshd.root / "out" / "probe-stat.csv"
    path.write_bytes(b"SKU,Qty\nA-1,3\n")
    path.chmod(0o644)
    os.utime(path, (1_700_000_900, 1_700_000_900))
    # When it is probed, Then its stat says its size and time
    probed = sftp_probe(sshd, str(path))
    assert (probed.remote_path, probed.size, probed.mtime) == (str(path), 14, 1_700_000_900)
    last = {"url": "sftp://h/p", "size": 14, "mtime": 1_700_000_900}
    assert (
        verdict(last, ProbedSource(location="sftp://h/p", size=probed.size, mtime=probed.mtime))
        == UNCHANGED
    )
    # When the supplier rewrites it, Then the time moved: changed
    path.write_bytes(b"SKU,Qty\nA-1,4\n")
    os.utime(path, (1_700_001_000, 1_700_001_000))
    moved = sftp_probe(sshd, str(path))
    assert (
        verdict(last, ProbedSource(location="sftp://h/p", size=moved.size, mtime=moved.mtime))
        == CHANGED
    )


def test_sftp_probe_pins_the_host_key(sshd: Sshd) -> None:
    # Given a pin that is not the server's, When probed, Then no credential is sent
    wrong = "SHA256:" + "A" * 43
    with pytest.raises(SourceHostKeyMismatch, match="does not match the pinned"):
        sftp_probe(sshd, f"{sshd.root}/out/prices.csv", wrong)
