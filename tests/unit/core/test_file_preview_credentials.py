"""POST /file-preview with a profile's stored credentials: they go only to the server, user
and (SFTP) host key they were entered for. A fake remote fetcher records what it was given,
so a test fails when a secret goes where it should not."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import pytest
from fakes import World, variant

from feedsync.core import file_preview
from feedsync.errors import InvalidRequest
from feedsync.models.file_preview import FilePreviewBody

PIN = "SHA256:" + "k" * 43
OTHER_PIN = "SHA256:" + "z" * 43


@dataclass
class Fetched:
    path: str
    file_name: str


@dataclass
class RecordingRemote:
    """An FTP/SFTP server that serves one file to anyone and remembers each login's secret."""

    presented: str = PIN
    logins: list[dict[str, str]] = field(default_factory=list)

    def host_key(self, source: Any) -> str:
        return self.presented

    def fetch(self, source: Any, secret: dict[str, str], dest_dir: str) -> Fetched:
        self.logins.append(dict(secret))
        path = os.path.join(dest_dir, "stock.csv")
        with open(path, "wb") as out:
            out.write(b"SKU,Qty\nA-1,4\n")
        return Fetched(path, "stock.csv")


@pytest.fixture
def remote(world: World) -> RecordingRemote:
    recording = RecordingRemote()
    world.deps.preview_remote = recording  # type: ignore[assignment]
    return recording


def _source(kind: str = "ftp", **more: Any) -> dict[str, Any]:
    source = {"type": kind, "host": "files.example", "port": 21 if kind == "ftp" else 22,
              "path": "/stock.csv", "username": "shop"}  # fmt: skip
    if kind == "sftp":
        source["host_key_fingerprint"] = PIN
    return source | more


def _stored(world: World, source: dict[str, Any]) -> None:
    """A profile whose source's password is stored."""
    ref = world.secrets.put("source", {"password": "s3cret"})
    world.profile(world.store([variant(1, 1, "A-1")]), source={**source, "secret_ref": ref})


def _preview(world: World, source: dict[str, Any]) -> dict[str, Any]:
    body = FilePreviewBody.model_validate({"source": source, "profile_id": "p1"})
    return file_preview.preview(world.deps, world.tenant, body)


def test_the_stored_password_goes_to_the_same_server_and_user(
    world: World, remote: RecordingRemote
) -> None:
    # Given an FTP profile whose password is stored
    _stored(world, _source())
    # When it is previewed for that profile without the password
    got = _preview(world, _source())
    # Then the file is read with the stored password
    assert got["rows"] == [["A-1", "4"]]
    assert remote.logins == [{"password": "s3cret"}]


@pytest.mark.parametrize(
    "elsewhere",
    [{"username": "someone"}, {"host": "other.example"}, {"port": 2121}],
    ids=["user", "host", "port"],
)
def test_the_stored_password_is_not_sent_to_another_user_or_server(
    world: World, remote: RecordingRemote, elsewhere: dict[str, Any]
) -> None:
    # Given an FTP profile whose password is stored
    _stored(world, _source())
    # When the preview names another user (or host, or port) without a password
    _preview(world, _source(**elsewhere))
    # Then the server was logged in to with no secret at all
    assert remote.logins == [{}]


def test_sftp_with_another_pin_and_the_stored_password_is_a_422_sending_nothing(
    world: World, remote: RecordingRemote
) -> None:
    # Given an SFTP profile whose password is stored for one host key
    _stored(world, _source("sftp"))
    # and a server presenting another key, which the preview body pins
    remote.presented = OTHER_PIN
    # When it is previewed for that profile without the password
    with pytest.raises(InvalidRequest) as refused:
        _preview(world, _source("sftp", host_key_fingerprint=OTHER_PIN))
    # Then the preview is refused naming the pin, saying to enter the password again
    assert refused.value.field == "source.host_key_fingerprint"
    assert "enter the password" in refused.value.message and PIN in refused.value.message
    # and nothing was sent to the server
    assert remote.logins == []


def test_sftp_with_the_profiles_pin_uses_the_stored_password(
    world: World, remote: RecordingRemote
) -> None:
    # Given an SFTP profile whose password is stored for its host key
    _stored(world, _source("sftp"))
    # When it is previewed with the same pin (written with the "=" ssh-keygen may print)
    got = _preview(world, _source("sftp", host_key_fingerprint=PIN + "="))
    # Then the stored password is used
    assert got["host_key"] == {"fingerprint": PIN, "pinned": True}
    assert remote.logins == [{"password": "s3cret"}]


def test_sftp_with_another_pin_and_a_password_in_the_body_is_read(
    world: World, remote: RecordingRemote
) -> None:
    # Given an SFTP profile whose password is stored for one host key
    _stored(world, _source("sftp"))
    remote.presented = OTHER_PIN
    # When the preview pins another key and sends the password again
    source = _source("sftp", host_key_fingerprint=OTHER_PIN, credentials={"password": "new"})
    got = _preview(world, source)
    # Then the file is read with the password sent, not the stored one
    assert got["rows"] == [["A-1", "4"]]
    assert remote.logins == [{"password": "new"}]
