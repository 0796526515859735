"""Secrets Manager adapter on moto: a changed secret reaches every process at its next read.

On AWS the API Lambda writes a profile's source password and the fetch Lambda reads it:
two processes, two ``SecretsManagerSecrets`` instances, each with its own cache. Here two
instances over one moto account play those two processes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from feedsync.adapters.aws_misc import SecretsManagerSecrets
from feedsync.errors import NotFound

NAME = "feedsync/t-1/prof-1/source"


class Process:
    """One Lambda process: its own client (counting GetSecretValue calls) and adapter."""

    def __init__(self) -> None:
        client = boto3.client("secretsmanager", region_name="us-east-1")
        self.reads = 0
        client.meta.events.register("before-call.secrets-manager.GetSecretValue", self._count)
        self.secrets = SecretsManagerSecrets(client)

    def _count(self, **_: Any) -> None:
        self.reads += 1


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def test_a_new_password_is_read_by_a_process_that_cached_the_old_one(aws: None) -> None:
    # Given the API process stored a password and the fetch process has read (cached) it
    api, fetch = Process(), Process()
    old_ref = api.secrets.put(NAME, {"password": "old-pass"})
    assert fetch.secrets.get(old_ref) == {"password": "old-pass"}
    # When the API process stores a corrected password (PATCH /profiles/{id})
    new_ref = api.secrets.put(NAME, {"password": "new-pass"})
    # Then the write is a new ref, and the fetch process reads the new password with it
    assert new_ref != old_ref
    assert fetch.secrets.get(new_ref) == {"password": "new-pass"}
    # ... while the old ref still names the old value (a version never changes)
    assert fetch.secrets.get(old_ref) == {"password": "old-pass"}


def test_a_versioned_ref_is_read_from_aws_once_per_process(aws: None) -> None:
    # Given a stored store token and two processes that read it
    api, update_a, update_b = Process(), Process(), Process()
    ref = api.secrets.put("feedsync/t-1/store-1", {"access_token": "tok"})
    # When each reads it three times (three update shards in each process)
    for process in (update_a, update_b):
        for _ in range(3):
            assert process.secrets.get(ref) == {"access_token": "tok"}
    # Then each process called GetSecretValue once
    assert (update_a.reads, update_b.reads) == (1, 1)


def test_a_cached_value_cannot_be_changed_by_its_reader(aws: None) -> None:
    # Given a process that read a secret
    process = Process()
    ref = process.secrets.put(NAME, {"password": "pass-1"})
    got = process.secrets.get(ref)
    # When the caller changes the dict it got
    got["password"] = "scribbled"
    # Then the next read still has the stored value
    assert process.secrets.get(ref) == {"password": "pass-1"}


def test_a_ref_without_a_version_is_read_fresh_every_time(aws: None) -> None:
    # Given a record written before refs carried a version (the bare ARN)
    api, fetch = Process(), Process()
    bare = api.secrets.put(NAME, {"password": "pass-1"}).partition("#")[0]
    assert fetch.secrets.get(bare) == {"password": "pass-1"}
    # When the secret's value changes behind that ref
    api.secrets.put(NAME, {"password": "pass-2"})
    # Then the next read has the new value (nothing cached for an unversioned ref)
    assert fetch.secrets.get(bare) == {"password": "pass-2"}
    assert fetch.reads == 2


def test_delete_removes_every_version_and_its_cached_values(aws: None) -> None:
    # Given a secret with two versions, both read by this process
    process = Process()
    first = process.secrets.put(NAME, {"password": "pass-1"})
    second = process.secrets.put(NAME, {"password": "pass-2"})
    process.secrets.get(first), process.secrets.get(second)
    # When it is deleted through one of its refs
    process.secrets.delete(second)
    # Then no version can be read any more, from the cache or from AWS
    for ref in (first, second):
        with pytest.raises(NotFound):
            process.secrets.get(ref)
    # ... and a second delete is harmless
    process.secrets.delete(first)


def test_the_cache_keeps_only_the_newest_versions(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a process whose cache holds two versions
    monkeypatch.setattr("feedsync.adapters.aws_misc._CACHED_VERSIONS", 2)
    api, fetch = Process(), Process()
    refs = [api.secrets.put(NAME, {"password": f"pass-{n}"}) for n in range(3)]
    # When it reads three versions, then the first again
    values = [fetch.secrets.get(ref)["password"] for ref in [*refs, refs[0]]]
    # Then every read is right, and the first was read from AWS again (it had been dropped)
    assert values == ["pass-0", "pass-1", "pass-2", "pass-0"]
    assert fetch.reads == 4
