"""POST /file-preview's core against the real servers the source tests use: nginx (URL),
OpenSSH (SFTP, with the host key it presents) and an upload, through the fetchers a run's
Fetch step uses."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from feedsync.adapters.http_source import HttpSourceFetcher
from feedsync.adapters.sftp_source import RemoteSourceFetcher
from feedsync.core import file_preview
from feedsync.errors import InvalidRequest
from feedsync.models.file_preview import FilePreviewBody
from tests.unit.core.fakes import World

if TYPE_CHECKING:  # fixtures' types; conftest is not importable by name in a full run
    from conftest import FtpServers, Nginx, Sshd

CATALOG = [(1, 11, "A-1", None, 1000, None, None, None, 5)]
OPTIONS: dict[str, Any] = {"allow_private": True, "connect_timeout_s": 5, "read_timeout_s": 10}


@pytest.fixture
def world(tmp_path: Path) -> World:
    """The fakes, with the preview's fetchers real (loopback servers are allowed here)."""
    made = World(str(tmp_path))
    made.deps.preview_fetcher = HttpSourceFetcher(**OPTIONS)
    made.deps.preview_remote = RemoteSourceFetcher(**OPTIONS)
    return made


def _preview(world: World, **body: Any) -> dict[str, Any]:
    return file_preview.preview(world.deps, world.tenant, FilePreviewBody.model_validate(body))


def _sftp(sshd: Sshd, **more: Any) -> dict[str, Any]:
    return {"type": "sftp", "host": "127.0.0.1", "port": sshd.port, "username": sshd.user,
            "path": f"{sshd.root}/out/stock_2024-*.csv", **more}  # fmt: skip


def test_a_url_source_shows_its_first_rows_and_how_it_was_read(world: World, nginx: Nginx) -> None:
    # Given a supplier file on a web server
    url = f"http://127.0.0.1:{nginx.port}/feed.csv"
    # When it is previewed with nothing said about its format
    got = _preview(world, source={"type": "url", "url": url})
    # Then its columns, first records and what was detected come back, and nothing is kept
    assert (got["file_name"], got["size"]) == ("feed.csv", len(b"SKU,Qty\nA-1,4\n"))
    assert got["columns"] == ["SKU", "Qty"]
    assert got["rows"] == [["A-1", "4"]]
    assert got["detected"]["format"] == "csv"
    assert (got["detected"]["delimiter"], got["detected"]["header_row"]) == (",", 1)
    assert got["host_key"] is None
    assert world.blobs.objects == {} and world.executions.started == {}


def test_a_profiles_stored_password_is_used_when_the_body_leaves_it_out(
    world: World, nginx: Nginx
) -> None:
    # Given a profile whose URL needs basic auth, its password stored as a secret
    url = f"http://127.0.0.1:{nginx.port}/basic/feed.csv"
    auth = {"type": "basic", "username": nginx.basic[0]}
    ref = world.secrets.put("src", {"password": nginx.basic[1]})
    world.profile(world.store(CATALOG), source={"type": "url", "url": url, "auth": auth,
                                                "secret_ref": ref})  # fmt: skip
    # When the editor previews it without re-typing the password
    got = _preview(world, source={"type": "url", "url": url, "auth": auth}, profile_id="p1")
    # Then the stored password was sent and the file read
    assert got["rows"] == [["A-1", "4"]]
    # And without the profile the server refuses, said as a 422 naming the source
    with pytest.raises(InvalidRequest) as refused:
        _preview(world, source={"type": "url", "url": url, "auth": auth})
    assert refused.value.field == "source"


def test_a_secret_ref_in_the_body_is_never_used(world: World, nginx: Nginx) -> None:
    # Given someone's stored password, and a body naming its ref itself
    url = f"http://127.0.0.1:{nginx.port}/basic/feed.csv"
    ref = world.secrets.put("someone", {"password": nginx.basic[1]})
    source = {"type": "url", "url": url, "secret_ref": ref,
              "auth": {"type": "basic", "username": nginx.basic[0]}}  # fmt: skip
    # When it is previewed, Then that secret is not read: the server refuses
    with pytest.raises(InvalidRequest) as refused:
        _preview(world, source=source)
    assert refused.value.field == "source"


def test_a_missing_file_is_a_422_naming_it(world: World, nginx: Nginx) -> None:
    # Given a URL with no file behind it
    url = f"http://127.0.0.1:{nginx.port}/nothing.csv"
    # When it is previewed, Then the refusal names the source and the URL
    with pytest.raises(InvalidRequest) as refused:
        _preview(world, source={"type": "url", "url": url})
    assert refused.value.field == "source"
    assert "nothing.csv" in refused.value.message


def test_a_format_the_file_is_not_is_a_422_naming_the_file(world: World, nginx: Nginx) -> None:
    # Given a CSV file, When it is previewed as a spreadsheet
    url = f"http://127.0.0.1:{nginx.port}/feed.csv"
    with pytest.raises(InvalidRequest) as refused:
        _preview(world, source={"type": "url", "url": url}, format={"type": "xlsx"})
    # Then the refusal names the format and the file
    assert refused.value.field == "format"
    assert "feed.csv" in refused.value.message


def test_sftp_with_its_pinned_key_reads_the_newest_match(world: World, sshd: Sshd) -> None:
    # Given an SFTP source pinned to the server's key, with a password
    source = _sftp(sshd, host_key_fingerprint=sshd.fingerprints["ed25519"],
                   credentials={"password": sshd.password})  # fmt: skip
    # When it is previewed
    got = _preview(world, source=source, rows=5)
    # Then the newest match is read and the key is reported as the pinned one
    assert got["file_name"] == "stock_2024-03.csv"
    assert got["rows"] == [["A-1", "3"]]
    assert got["host_key"] == {"fingerprint": sshd.fingerprints["ed25519"], "pinned": True}


def test_sftp_without_a_pin_answers_the_presented_key_and_reads_nothing(
    world: World, sshd: Sshd
) -> None:
    # Given an SFTP source whose host key the merchant does not know yet
    source = _sftp(sshd, credentials={"password": sshd.password})
    # When it is previewed
    got = _preview(world, source=source)
    # Then the fingerprint the server presented comes back to confirm, and no file is read
    assert got["host_key"]["pinned"] is False
    assert got["host_key"]["fingerprint"] in sshd.fingerprints.values()
    assert got["file_name"] is None and got["rows"] == []
    assert "Confirm it with the supplier" in got["message"]


def test_sftp_with_another_pinned_key_is_refused_showing_the_presented_one(
    world: World, sshd: Sshd
) -> None:
    # Given an SFTP source pinned to a key the server does not have
    wrong = "SHA256:" + "A" * 43
    source = _sftp(sshd, host_key_fingerprint=wrong, credentials={"password": sshd.password})
    # When it is previewed
    got = _preview(world, source=source)
    # Then nothing is read, and the key the server presented is shown, not pinned
    assert got["file_name"] is None
    assert got["host_key"]["pinned"] is False
    assert got["host_key"]["fingerprint"] in sshd.fingerprints.values()
    assert "does not match" in got["message"]


def test_an_ftp_source_with_the_profiles_password_reads_the_file(
    world: World, ftp_servers: FtpServers
) -> None:
    # Given an FTP profile whose password is stored
    ref = world.secrets.put("ftp", {"password": ftp_servers.password})
    source = {"type": "ftp", "host": "127.0.0.1", "port": ftp_servers.plain,
              "path": "/out/prices.csv", "username": ftp_servers.user}  # fmt: skip
    world.profile(world.store(CATALOG), source={**source, "secret_ref": ref})
    # When the editor previews it for that profile without the password
    got = _preview(world, source=source, profile_id="p1")
    # Then the file is read with the stored password
    assert (got["columns"], got["rows"]) == (["SKU", "Price"], [["A-1", "9.99"]])
    # (that it is not sent to another user, server or host key: a fake remote records what
    # it was given in tests/unit/core/test_file_preview_credentials.py)


def test_an_upload_source_previews_the_profiles_latest_upload(world: World) -> None:
    # Given an upload profile whose latest file is in the bucket
    world.profile(world.store(CATALOG), source={"type": "upload"})
    key = "uploads/t1/p1/up_1/stock.csv"
    world.blobs.put_bytes(key, b"SKU;Qty;Price\nA-1;4;9,99\nB-2;0;1,50\n")
    world.repo.update_profile(world.tenant, "p1", upload_key=key)
    # When it is previewed for that profile
    got = _preview(world, source={"type": "upload"}, profile_id="p1", rows=1)
    # Then its first record comes back, read with the delimiter detected
    assert got["file_name"] == "stock.csv"
    assert got["columns"] == ["SKU", "Qty", "Price"]
    assert got["rows"] == [["A-1", "4", "9,99"]]
    assert got["detected"]["delimiter"] == ";"


def test_an_upload_source_needs_a_profile_with_a_file(world: World) -> None:
    # Given an upload profile with no file yet
    world.profile(world.store(CATALOG), source={"type": "upload"})
    # When it is previewed without and with the profile, Then each says what is missing
    for body, why in (({}, "previews a profile's"), ({"profile_id": "p1"}, "no file")):
        with pytest.raises(InvalidRequest) as refused:
            _preview(world, source={"type": "upload"}, **body)
        assert refused.value.field == "profile_id"
        assert why in refused.value.message


def test_a_long_cell_is_cut_so_the_answer_stays_small(world: World) -> None:
    # Given an uploaded file whose one cell is 10,000 characters long
    world.profile(world.store(CATALOG), source={"type": "upload"})
    key = "uploads/t1/p1/up_1/long.csv"
    world.blobs.put_bytes(key, b"SKU,Description\nA-1," + b"x" * 10_000 + b"\n")
    world.repo.update_profile(world.tenant, "p1", upload_key=key)
    # When it is previewed
    got = _preview(world, source={"type": "upload"}, profile_id="p1")
    # Then the cell is shown cut at 500 characters, marked
    (row,) = got["rows"]
    assert row[1] == "x" * 500 + "…"
