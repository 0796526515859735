"""Every FTP/SFTP connection failure names its cause: DNS, refused, timeout, private address."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from feedsync.adapters.ftp_source import FtpSourceFetcher
from feedsync.adapters.sftp_source import SftpSourceFetcher
from feedsync.errors import SourceError, SourceUnavailable

Fetch = Callable[[str, int, str, bool], object]


def ftp(host: str, port: int, dest: str, allow_private: bool = True) -> object:
    fetcher = FtpSourceFetcher(allow_private=allow_private, connect_timeout_s=2, read_timeout_s=0.5)
    return fetcher.fetch(host, port, "/f.csv", "u", "ftp-pass-xyz", tls="explicit", dest_dir=dest)


def sftp(host: str, port: int, dest: str, allow_private: bool = True) -> object:
    fetcher = SftpSourceFetcher(
        allow_private=allow_private, connect_timeout_s=2, read_timeout_s=0.5
    )
    return fetcher.fetch(
        host,
        port,
        "/f.csv",
        "u",
        host_key_fingerprint="SHA256:" + "A" * 43,
        password="sftp-pass-xyz",
        dest_dir=dest,
    )


FETCHERS = pytest.mark.parametrize("fetch", [ftp, sftp], ids=["ftp", "sftp"])


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (kernel backlog) and never says anything."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@FETCHERS
def test_dns_failure(fetch: Fetch, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"DNS lookup of 'supplier\.invalid' failed"):
        fetch("supplier.invalid", 21, str(tmp_path), True)


@FETCHERS
def test_connection_refused(fetch: Fetch, tmp_path: Path, closed_port: int) -> None:
    with pytest.raises(SourceError, match=f"connection refused by 127.0.0.1 port {closed_port}"):
        fetch("127.0.0.1", closed_port, str(tmp_path), True)


@FETCHERS
def test_a_silent_server_times_out(fetch: Fetch, tmp_path: Path, silent_port: int) -> None:
    with pytest.raises(SourceUnavailable, match=r"(no answer|no SSH greeting).* 0\.5s") as c:
        fetch("127.0.0.1", silent_port, str(tmp_path), True)
    assert "pass-xyz" not in str(c.value)


@FETCHERS
def test_a_private_address_is_refused_unless_allowed(
    fetch: Fetch, tmp_path: Path, silent_port: int
) -> None:
    with pytest.raises(SourceError, match=r"resolves to 127\.0\.0\.1, a loopback address"):
        fetch("127.0.0.1", silent_port, str(tmp_path), False)
