"""SFTP against a real OpenSSH sshd on a loopback port (see conftest.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from feedsync.adapters.sftp_source import SftpSourceFetcher, normalize_fingerprint
from feedsync.errors import (
    SourceAuthError,
    SourceError,
    SourceHostKeyMismatch,
    SourceNotFound,
    SourceTooLarge,
)

if TYPE_CHECKING:  # fixtures' types; conftest is not importable by name in a full run
    from conftest import FtpServers, Sshd


def fetcher(**kw: int) -> SftpSourceFetcher:
    return SftpSourceFetcher(allow_private=True, connect_timeout_s=5, read_timeout_s=10, **kw)


@pytest.mark.parametrize("kind", ["ed25519", "ecdsa", "rsa_pem"])
def test_key_login_downloads_the_file(sshd: Sshd, tmp_path: Path, kind: str) -> None:
    # Given the supplier's server with our public key authorized and its host key pinned
    # When the file is fetched with the private key (OpenSSH or PEM text)
    got = fetcher().fetch(
        "127.0.0.1",
        sshd.port,
        f"{sshd.root}/out/stock_2024-01.csv",
        sshd.user,
        host_key_fingerprint=sshd.fingerprints["ed25519"],
        private_key=sshd.user_keys[kind],
        dest_dir=str(tmp_path),
    )
    # Then the file arrives with its name, size and modification time
    assert Path(got.path).read_bytes() == b"SKU,Qty\nA-1,1\n"
    assert (got.file_name, got.size, got.remote_path) == (
        "stock_2024-01.csv",
        14,
        f"{sshd.root}/out/stock_2024-01.csv",
    )
    assert got.last_modified == "Tue, 14 Nov 2023 22:13:20 GMT"


def test_password_login_downloads_the_file(sshd: Sshd, tmp_path: Path) -> None:
    got = fetcher().fetch(
        "127.0.0.1",
        sshd.port,
        f"{sshd.root}/out/prices.csv",
        sshd.user,
        host_key_fingerprint=sshd.fingerprints["ed25519"],
        password=sshd.password,
        dest_dir=str(tmp_path),
    )
    assert Path(got.path).read_bytes() == b"SKU,Price\nA-1,9.99\n"


def test_a_wrong_password_is_an_auth_error_without_the_password(sshd: Sshd, tmp_path: Path) -> None:
    with pytest.raises(SourceAuthError, match="login refused") as caught:
        fetcher().fetch(
            "127.0.0.1",
            sshd.port,
            f"{sshd.root}/out/prices.csv",
            sshd.user,
            host_key_fingerprint=sshd.fingerprints["ed25519"],
            password="not-the-password",
            dest_dir=str(tmp_path),
        )
    assert "not-the-password" not in str(caught.value)


def test_an_unauthorized_key_is_an_auth_error(sshd: Sshd, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    stranger = (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    with pytest.raises(SourceAuthError, match="did not accept the private key"):
        fetcher().fetch(
            "127.0.0.1",
            sshd.port,
            f"{sshd.root}/out/prices.csv",
            sshd.user,
            host_key_fingerprint=sshd.fingerprints["ed25519"],
            private_key=stranger,
            dest_dir=str(tmp_path),
        )


def test_garbage_private_key_text_is_named_but_not_shown(sshd: Sshd, tmp_path: Path) -> None:
    with pytest.raises(SourceAuthError, match="private key cannot be read") as caught:
        fetcher().fetch(
            "127.0.0.1",
            sshd.port,
            "/x.csv",
            sshd.user,
            host_key_fingerprint=sshd.fingerprints["ed25519"],
            private_key="-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n",
            dest_dir=str(tmp_path),
        )
    assert "c2VjcmV0" not in str(caught.value)


def test_a_changed_host_key_is_refused_showing_what_the_server_presented(
    sshd: Sshd, tmp_path: Path
) -> None:
    # Given a pin that is not one of the server's keys
    pinned = "SHA256:" + "A" * 43
    # Then the connection is refused before logging in, and the error shows every key seen
    with pytest.raises(SourceHostKeyMismatch) as caught:
        fetcher().fetch(
            "127.0.0.1",
            sshd.port,
            f"{sshd.root}/out/prices.csv",
            sshd.user,
            host_key_fingerprint=pinned,
            password=sshd.password,
            dest_dir=str(tmp_path),
        )
    message = str(caught.value)
    assert pinned in message
    assert sshd.fingerprints["ed25519"] in message
    assert sshd.fingerprints["rsa"] in message
    assert not list(tmp_path.iterdir())


def test_an_unpinned_server_is_refused_showing_its_fingerprint(sshd: Sshd, tmp_path: Path) -> None:
    with pytest.raises(SourceHostKeyMismatch, match="no host key fingerprint is pinned") as c:
        fetcher().fetch(
            "127.0.0.1",
            sshd.port,
            f"{sshd.root}/out/prices.csv",
            sshd.user,
            host_key_fingerprint="",
            password=sshd.password,
            dest_dir=str(tmp_path),
        )
    assert sshd.fingerprints["ed25519"] in str(c.value)


def test_the_pin_may_be_the_servers_other_key(sshd: Sshd, tmp_path: Path) -> None:
    # Given the supplier gave us its RSA key's fingerprint (with base64 padding) while the
    # client would negotiate Ed25519 first
    pinned = sshd.fingerprints["rsa"] + "="
    got = fetcher().fetch(
        "127.0.0.1",
        sshd.port,
        f"{sshd.root}/out/prices.csv",
        sshd.user,
        host_key_fingerprint=pinned,
        password=sshd.password,
        dest_dir=str(tmp_path),
    )
    assert got.size == 19


def test_a_glob_takes_the_newest_matching_file(sshd: Sshd, tmp_path: Path) -> None:
    got = fetcher().fetch(
        "127.0.0.1",
        sshd.port,
        f"{sshd.root}/out/stock_*.csv",
        sshd.user,
        host_key_fingerprint=sshd.fingerprints["ed25519"],
        password=sshd.password,
        dest_dir=str(tmp_path),
    )
    # Then the newest stock file (by mtime) is taken, not the newer prices file or folder
    assert got.remote_path == f"{sshd.root}/out/stock_2024-03.csv"
    assert Path(got.path).read_bytes() == b"SKU,Qty\nA-1,3\n"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("out/missing.csv", "no such file"),
        ("out/nothing_*.csv", "no file in .* matches 'nothing_\\*.csv'"),
        ("nowhere/stock_*.csv", "no such file or folder"),
    ],
)
def test_a_missing_file_is_not_found(sshd: Sshd, tmp_path: Path, path: str, message: str) -> None:
    with pytest.raises(SourceNotFound, match=message):
        fetcher().fetch(
            "127.0.0.1",
            sshd.port,
            f"{sshd.root}/{path}",
            sshd.user,
            host_key_fingerprint=sshd.fingerprints["ed25519"],
            password=sshd.password,
            dest_dir=str(tmp_path),
        )


def test_a_file_over_the_cap_is_too_large(sshd: Sshd, tmp_path: Path) -> None:
    with pytest.raises(SourceTooLarge, match="300000 bytes, over the 100000 byte limit"):
        fetcher(max_bytes=100_000).fetch(
            "127.0.0.1",
            sshd.port,
            f"{sshd.root}/out/big.csv",
            sshd.user,
            host_key_fingerprint=sshd.fingerprints["ed25519"],
            password=sshd.password,
            dest_dir=str(tmp_path),
        )
    assert not list(tmp_path.iterdir())


def test_a_large_file_streams_in_windows(sshd: Sshd, tmp_path: Path) -> None:
    got = fetcher().fetch(
        "127.0.0.1",
        sshd.port,
        f"{sshd.root}/out/big.csv",
        sshd.user,
        host_key_fingerprint=sshd.fingerprints["ed25519"],
        private_key=sshd.user_keys["ed25519"],
        dest_dir=str(tmp_path),
    )
    assert (got.size, Path(got.path).read_bytes()) == (300_000, b"x" * 300_000)


def test_a_folder_in_the_glob_is_refused(sshd: Sshd, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="only the file name may contain"):
        fetcher().fetch(
            "127.0.0.1",
            sshd.port,
            "/out*/stock.csv",
            sshd.user,
            host_key_fingerprint=sshd.fingerprints["ed25519"],
            password=sshd.password,
            dest_dir=str(tmp_path),
        )


def test_fingerprints_are_normalized() -> None:
    assert normalize_fingerprint(" abc= ") == "SHA256:abc"
    assert normalize_fingerprint("sha256:abc") == "SHA256:abc"


def test_the_profile_adapter_fetches_sftp_and_ftp(
    sshd: Sshd, ftp_servers: FtpServers, tmp_path: Path
) -> None:
    # Given profile sources as the pipeline hands them over (models-like objects)
    from types import SimpleNamespace

    from feedsync.adapters.sftp_source import RemoteSourceFetcher

    remote = RemoteSourceFetcher(allow_private=True, read_timeout_s=10)
    sftp = SimpleNamespace(
        type="sftp",
        host="127.0.0.1",
        port=sshd.port,
        path=f"{sshd.root}/out/stock_*.csv",
        username=sshd.user,
        host_key_fingerprint=sshd.fingerprints["ed25519"],
    )
    ftps = SimpleNamespace(
        type="ftps",
        host="127.0.0.1",
        port=ftp_servers.implicit,
        path="/out/stock_*.csv",
        username=ftp_servers.user,
        tls="implicit",
        verify_tls=False,
    )
    got_sftp = remote.fetch(sftp, {"private_key": sshd.user_keys["ecdsa"]}, str(tmp_path))
    (tmp_path / "2").mkdir()
    got_ftps = remote.fetch(ftps, {"password": ftp_servers.password}, str(tmp_path / "2"))
    assert got_sftp.file_name == got_ftps.file_name == "stock_2024-03.csv"
