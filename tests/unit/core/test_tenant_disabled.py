"""A tenant an operator disabled (core/tenants.py): nothing of it runs, its schedules fire as
``skipped`` runs with the reason, and enabling it lets them run again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from account_records_fakes import FakeAccountRecords
from fakes import World, row, variant

from feedsync.core import api, audit, review, tenants
from feedsync.core.start import start_run
from feedsync.core.steps.finalize import finalize
from feedsync.core.steps.match import match
from feedsync.errors import Conflict
from feedsync.models import ApplyBody, FinalizeInput, MatchInput, StartCommand
from feedsync.models.accounts import TenantRecord

FIRE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REASON = "invoice 1042 unpaid"


@pytest.fixture
def disabled(world: World) -> World:
    """t1 with a ready store and profile, disabled by the operator."""
    fake = FakeAccountRecords()
    world.deps.account_records = fake
    fake.put_tenant(TenantRecord(tenant_id="t1", name="Shop", created_at=world.clock()))
    world.profile(world.store([variant(1, 1, "A")]))
    tenants.disable(world.deps, "t1", REASON)
    return world


def _fire(world: World) -> StartCommand:
    return StartCommand(
        tenant_id="t1", profile_id="p1", trigger="schedule", scheduled_time=FIRE,
        idempotency_key=FIRE.isoformat(),
    )  # fmt: skip


def test_a_disabled_tenants_scheduled_fire_is_skipped_with_the_reason(disabled: World) -> None:
    # When the profile's schedule fires
    run = start_run(disabled.deps, _fire(disabled))
    # Then a skipped run says why; nothing started, no lock held
    assert run.status == "skipped"
    assert run.reason == f"tenant_disabled: the tenant is disabled: {REASON}"
    assert not disabled.executions.started
    assert disabled.profile_record().current_run_id is None


def test_a_disabled_tenants_start_and_upload_url_are_409_with_the_reason(disabled: World) -> None:
    # When the merchant presses Start, Then 409 tenant_disabled naming the reason
    with pytest.raises(Conflict) as refused:
        start_run(disabled.deps, StartCommand(tenant_id="t1", profile_id="p1", trigger="manual"))
    assert refused.value.reason == "tenant_disabled" and REASON in refused.value.message
    assert not disabled.executions.started
    # and an upload profile's upload URL is refused the same way
    disabled.profile(disabled.store([variant(1, 1, "A")], store_id="s2"), profile_id="p2",
                     source={"type": "upload"})  # fmt: skip
    with pytest.raises(Conflict) as no_upload:
        api.upload_url(disabled.deps, "t1", "p2", "stock.csv")
    assert no_upload.value.reason == "tenant_disabled"


def test_a_disabled_tenants_preview_cannot_be_applied(world: World) -> None:
    # Given a preview waiting to be applied, then the tenant disabled
    fake = FakeAccountRecords()
    world.deps.account_records = fake
    fake.put_tenant(TenantRecord(tenant_id="t1", name="Shop", created_at=world.clock()))
    ref = world.run(world.profile(world.store([variant(1, 1, "A", price=1000)])))
    world.repo.update_run("t1", ref.run_id, preview=True)
    feed = world.parsed(ref, [row(2, "A", price=1200)])
    match(world.deps, MatchInput(run=ref, fetch=world.fetched(ref), parse=feed))
    finalize(world.deps, FinalizeInput(run=ref, previewed=True))
    tenants.disable(world.deps, "t1", REASON)
    # When it is applied, Then 409 tenant_disabled, and nothing started
    with pytest.raises(Conflict) as refused:
        review.apply_run(world.deps, "t1", ref.run_id, ApplyBody())
    assert refused.value.reason == "tenant_disabled"
    assert not world.executions.started


def test_enabling_the_tenant_lets_its_schedule_run_again(disabled: World) -> None:
    # Given a fire skipped while disabled
    assert start_run(disabled.deps, _fire(disabled)).status == "skipped"
    # When the operator enables the tenant and the next fire comes
    disabled.clock.advance(60)
    tenants.enable(disabled.deps, "t1")
    nxt = _fire(disabled).model_copy(update={"idempotency_key": "next"})
    run = start_run(disabled.deps, nxt)
    # Then it runs, and the trail has both changes by the operator
    assert run.status == "queued" and disabled.executions.started
    actions = [(e.action, e.actor, e.detail) for e in audit.page(disabled.deps, "t1").events]
    assert actions == [("tenant.enabled", "operator", ""), ("tenant.disabled", "operator", REASON)]


def test_disabling_needs_a_reason(disabled: World) -> None:
    with pytest.raises(Exception, match="say why"):
        tenants.disable(disabled.deps, "t1", "  ")


def test_the_operators_line_counts_this_months_runs_and_names_the_plan(disabled: World) -> None:
    # Given runs of last month and this month (ids start with their time in ms), on "pro"
    fake = disabled.deps.account_records
    assert isinstance(fake, FakeAccountRecords)
    march = tenants.month_start_run_id(datetime(2026, 3, 2, tzinfo=UTC))
    february = tenants.month_start_run_id(datetime(2026, 2, 27, tzinfo=UTC))
    fake.runs["t1"] = [f"{february}aa", f"{march}aa", f"{march}bb"]
    disabled.clock.now = datetime(2026, 3, 20, tzinfo=UTC)
    tenants.change_plan(disabled.deps, "t1", tenants.plan_named("pro"))
    # When the operator lists it
    line = tenants.overview(disabled.deps, tenants.get_tenant(disabled.deps, "t1"))
    # Then the plan is named, this month's two runs counted, the reason shown
    assert (line["plan"], line["runs_this_month"], line["profiles"]) == ("pro", 2, 1)
    assert (line["status"], line["disabled_reason"]) == ("disabled", REASON)
    # and an unknown plan is refused naming the known ones
    with pytest.raises(Exception, match="starter, standard, pro"):
        tenants.plan_named("platinum")
