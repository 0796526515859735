"""FTP, explicit FTPS and implicit FTPS against real pyftpdlib servers (see conftest.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from feedsync.adapters.ftp_source import FtpSourceFetcher, Tls
from feedsync.errors import SourceAuthError, SourceError, SourceNotFound, SourceTooLarge

if TYPE_CHECKING:  # fixtures' types; conftest is not importable by name in a full run
    from conftest import FtpServers

MODES: list[Tls] = ["none", "explicit", "implicit"]


def fetch(
    servers: FtpServers,
    tls: Tls,
    path: str,
    dest: Path,
    *,
    password: str | None = None,
    port: int | None = None,
    max_bytes: int | None = None,
    ca_file: str | None = "",
    verify_tls: bool = True,
) -> object:
    ports = {"none": servers.plain, "explicit": servers.explicit, "implicit": servers.implicit}
    return FtpSourceFetcher(allow_private=True, connect_timeout_s=5, read_timeout_s=10).fetch(
        "127.0.0.1",
        port or ports[tls],
        path,
        servers.user,
        servers.password if password is None else password,
        tls=tls,
        dest_dir=str(dest),
        max_bytes=max_bytes,
        verify_tls=verify_tls,
        ca_file=servers.ca_file if ca_file == "" else ca_file,
    )


@pytest.mark.parametrize("tls", MODES)
def test_a_file_is_downloaded(ftp_servers: FtpServers, tmp_path: Path, tls: Tls) -> None:
    got = fetch(ftp_servers, tls, "/out/stock_2024-02.csv", tmp_path)
    assert Path(got.path).read_bytes() == b"SKU,Qty\nA-1,2\n"  # type: ignore[attr-defined]
    assert (got.file_name, got.remote_path, got.size) == (  # type: ignore[attr-defined]
        "stock_2024-02.csv",
        "/out/stock_2024-02.csv",
        14,
    )
    assert got.last_modified == "Thu, 16 Nov 2023 02:00:00 GMT"  # type: ignore[attr-defined]


@pytest.mark.parametrize("tls", MODES)
def test_a_wrong_password_is_an_auth_error(
    ftp_servers: FtpServers, tmp_path: Path, tls: Tls
) -> None:
    with pytest.raises(SourceAuthError, match="login refused") as caught:
        fetch(ftp_servers, tls, "/out/prices.csv", tmp_path, password="wrong-password-x")
    assert "wrong-password-x" not in str(caught.value)


@pytest.mark.parametrize("tls", MODES)
def test_a_glob_takes_the_newest_match(ftp_servers: FtpServers, tmp_path: Path, tls: Tls) -> None:
    got = fetch(ftp_servers, tls, "/out/stock_*.csv", tmp_path)
    assert got.remote_path == "/out/stock_2024-03.csv"  # type: ignore[attr-defined]
    assert Path(got.path).read_bytes() == b"SKU,Qty\nA-1,3\n"  # type: ignore[attr-defined]


def test_a_glob_without_mlsd_uses_nlst_and_mdtm(ftp_servers: FtpServers, tmp_path: Path) -> None:
    got = fetch(ftp_servers, "none", "/out/stock_*.csv", tmp_path, port=ftp_servers.no_mlsd)
    assert got.remote_path == "/out/stock_2024-03.csv"  # type: ignore[attr-defined]


@pytest.mark.parametrize("tls", MODES)
@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/out/missing.csv", "not found"),
        ("/out/nothing_*.csv", r"no file in /out matches 'nothing_\*.csv'"),
        ("/nowhere/stock_*.csv", "listing /nowhere: not found"),
    ],
)
def test_a_missing_file_is_not_found(
    ftp_servers: FtpServers, tmp_path: Path, tls: Tls, path: str, message: str
) -> None:
    with pytest.raises(SourceNotFound, match=message):
        fetch(ftp_servers, tls, path, tmp_path)


@pytest.mark.parametrize("tls", MODES)
def test_a_file_over_the_cap_is_too_large(
    ftp_servers: FtpServers, tmp_path: Path, tls: Tls
) -> None:
    with pytest.raises(SourceTooLarge, match="300000 bytes, over the 100000 byte limit"):
        fetch(ftp_servers, tls, "/out/big.csv", tmp_path, max_bytes=100_000)
    assert not list(tmp_path.iterdir())


def test_the_cap_holds_when_the_size_is_not_known_in_advance(
    ftp_servers: FtpServers, tmp_path: Path
) -> None:
    # NLST has no sizes: the cap stops the download itself
    with pytest.raises(SourceTooLarge, match="exceeds the 100000 byte limit; download stopped"):
        fetch(
            ftp_servers,
            "none",
            "/out/big*.csv",
            tmp_path,
            port=ftp_servers.no_mlsd,
            max_bytes=100_000,
        )
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("tls", ["explicit", "implicit"])
def test_an_untrusted_certificate_is_a_tls_error(
    ftp_servers: FtpServers, tmp_path: Path, tls: Tls
) -> None:
    with pytest.raises(SourceError, match="TLS certificate not trusted"):
        fetch(ftp_servers, tls, "/out/prices.csv", tmp_path, ca_file=None)


def test_verification_can_be_turned_off(ftp_servers: FtpServers, tmp_path: Path) -> None:
    got = fetch(
        ftp_servers, "explicit", "/out/prices.csv", tmp_path, ca_file=None, verify_tls=False
    )
    assert got.size == 19  # type: ignore[attr-defined]


def test_explicit_tls_against_a_plain_server_says_so(
    ftp_servers: FtpServers, tmp_path: Path
) -> None:
    with pytest.raises(SourceError, match=r"AUTH TLS.*does not offer TLS"):
        fetch(ftp_servers, "explicit", "/out/prices.csv", tmp_path, port=ftp_servers.plain)


def test_implicit_tls_against_a_plain_server_fails_naming_tls(
    ftp_servers: FtpServers, tmp_path: Path
) -> None:
    with pytest.raises(SourceError, match="implicit TLS"):
        fetch(ftp_servers, "implicit", "/out/prices.csv", tmp_path, port=ftp_servers.plain)
