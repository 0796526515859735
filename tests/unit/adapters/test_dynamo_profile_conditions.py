"""The profile's conditional writes on the single table (moto): an edit only while no run
holds the lock, and ``pending_upload`` cleared only while it names the file a run copied."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from feedsync.adapters.dynamo import DynamoRepository
from feedsync.models import PendingUpload, Profile, ProfileSettings

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def repo(table: tuple[str, Any]) -> DynamoRepository:
    repo = DynamoRepository(table[0], table[1])
    settings = ProfileSettings.model_validate(
        {"name": "p", "store_id": "s1", "source": {"type": "upload"},
         "mapping": {"sku": "SKU", "stock": "Qty"}, "fields": ["stock"]}
    )  # fmt: skip
    repo.put_profile(
        Profile(**settings.model_dump(), tenant_id="t1", profile_id="p1", created_at=AT)
    )
    return repo


def _pending(key: str, version: str | None) -> dict[str, Any]:
    file = PendingUpload(key=key, version=version, size=3, file_name="a.csv", uploaded_at=AT)
    return file.model_dump(mode="json")


def test_an_idle_profile_is_updated_and_a_running_one_is_not(repo: DynamoRepository) -> None:
    # Given an idle profile, When it is moved, Then the write holds
    assert repo.update_idle_profile("t1", "p1", store_id="s2") is True
    assert (profile := repo.get_profile("t1", "p1")) is not None and profile.store_id == "s2"
    # Given a run holds its lock, When it is moved again, Then nothing is written
    assert repo.acquire_run_lock("t1", "p1", "run_1", AT)
    assert repo.update_idle_profile("t1", "p1", store_id="s3") is False
    assert (profile := repo.get_profile("t1", "p1")) is not None and profile.store_id == "s2"
    # and a missing profile is not created
    assert repo.update_idle_profile("t1", "nope", store_id="s3") is False


@pytest.mark.parametrize("version", ["v1", None], ids=["versioned", "unversioned"])
def test_pending_upload_is_cleared_only_while_it_names_the_copied_file(
    repo: DynamoRepository, version: str | None
) -> None:
    # Given a pending upload, and a newer one stored after a run copied the first
    repo.update_profile("t1", "p1", pending_upload=_pending("up/b.csv", version))
    # When the run clears the first one, Then the newer one stays pending
    repo.clear_pending_upload("t1", "p1", "up/a.csv", version)
    assert (profile := repo.get_profile("t1", "p1")) is not None
    assert profile.pending_upload is not None and profile.pending_upload.key == "up/b.csv"
    # When the run that copied it clears it, Then nothing is pending
    repo.clear_pending_upload("t1", "p1", "up/b.csv", version)
    assert (profile := repo.get_profile("t1", "p1")) is not None
    assert profile.pending_upload is None


def test_pending_upload_of_another_version_of_the_key_stays(repo: DynamoRepository) -> None:
    # Given version v2 of a key pending (stored again under the same presigned URL)
    repo.update_profile("t1", "p1", pending_upload=_pending("up/a.csv", "v2"))
    # When a run that copied version v1 clears it
    repo.clear_pending_upload("t1", "p1", "up/a.csv", "v1")
    # Then v2 stays pending
    assert (profile := repo.get_profile("t1", "p1")) is not None
    assert profile.pending_upload is not None and profile.pending_upload.version == "v2"
