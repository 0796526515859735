"""The cost model (``make cost``: ``bench/cost_model.py``) at a tiny size, on the session's
local stack: its counts are what the project's cost figures are made of, so a change that
stops the meter seeing a service, or miscounts one, fails here first."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from integration_harness import Harness

from bench.cost_pricing import (
    Pricing,
    architecture,
    function_memory,
    load_prices,
    retention_days,
    template,
    total,
)
from bench.cost_scenarios import CostBench, Measured
from feedsync_local.metering import Meter

ROWS, CHANGES = 40, 8
# The Task states of statemachine/sync.asl.json and the function each invokes.
TASKS = {"Fetch": "FetchFunction", "Parse": "ParseFunction", "Match": "MatchFunction"}
FINALIZING = ("Finalize", "MarkFailed", "MarkSkipped", "MarkCancelled", "MarkForReview")


@pytest.fixture
def meter(h: Harness) -> Iterator[Meter]:
    meter = Meter().attach(h.stack)
    try:
        yield meter
    finally:
        meter.detach()


def _quiet(_line: str) -> None:
    pass


def _states_entered(h: Harness, execution: str) -> Counter[str]:
    sfn = h.stack.client("stepfunctions")
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution)
    return Counter(
        event["stateEnteredEventDetails"]["name"]
        for page in pages
        for event in page["events"]
        if "stateEnteredEventDetails" in event
    )


def test_a_metered_run_and_unchanged_check_count_what_the_product_did(
    h: Harness, meter: Meter
) -> None:
    # Given the meter on the local stack and a WooCommerce store of 40 items
    bench = CostBench(h.env, meter, h.files_dir)
    # When a tenant sets up the store and an automatic profile through the API, the
    # scheduler fires it (a file with 8 changes), then fires it again (the same file)
    (setup, real, unchanged), _ = bench.platform("woocommerce", ROWS, CHANGES, log=_quiet)
    # Then the setup went through API Gateway twice, each request authorized, and wrote
    # the store's token as one secret
    by_fn = Counter(i.function for i in setup.usage.invocations)
    assert setup.usage.api_requests == 2 and by_fn["ApiFunction"] == 2
    assert by_fn["AuthorizerFunction"] == 2 and by_fn["CatalogImportFunction"] == 1
    assert setup.usage.calls[("secretsmanager", "CreateSecret")] == 1
    # And the real run is one scheduled invocation, one Lambda invocation per Task state,
    # one child transition per update shard, and as many parent transitions as its
    # execution's history shows states entered
    assert (real.status, real.counts["updated"]) == ("succeeded", CHANGES)
    _counts_match_the_execution(h, real)
    by_fn = Counter(i.function for i in real.usage.invocations)
    assert by_fn["UpdateFunction"] == real.usage.transitions_child >= 1
    assert all(by_fn[fn] == 1 for fn in [*TASKS.values(), "StartFunction", "FinalizeFunction"])
    # And every DynamoDB write cost at least one unit, every S3 upload one PUT-class request
    u = real.usage
    writes = sum(n for (svc, op), n in u.calls.items() if svc == "dynamodb" and "Item" in op
                 and op.startswith(("Put", "Update", "Delete")))  # fmt: skip
    assert u.dynamodb_write_units >= writes > 0 and u.dynamodb_read_units > 0
    assert u.s3_requests["A"] >= u.calls[("s3", "PutObject")] > 0
    assert sum(u.s3_bytes_put.values()) > 0 and u.s3_requests["B"] > 0
    # And the unchanged check costs fewer transitions and no update shard: a run started
    # and skipped, or (once the start path looks at the source first) no execution at all
    assert unchanged.usage.transitions_child == 0
    assert unchanged.usage.transitions_parent < real.usage.transitions_parent
    if unchanged.status == "no run":
        assert unchanged.usage.transitions_parent == 0 and unchanged.execution is None
        assert unchanged.usage.scheduler_invocations == 1
    else:
        assert unchanged.status == "skipped"
        _counts_match_the_execution(h, unchanged)
    # And priced, every scenario costs something, the real run more than the check
    tmpl = template()
    pricing = Pricing(load_prices(), function_memory(tmpl), architecture(tmpl),
                      retention_days(tmpl))  # fmt: skip
    costs = [total(pricing.by_service(m.usage)) for m in (setup, real, unchanged)]
    assert all(c > 0 for c in costs) and costs[1] > costs[2]


def _counts_match_the_execution(h: Harness, m: Measured) -> None:
    """One scheduler invocation; each invocation timed; the parent's transitions are the
    states its execution entered (moto's history), its Task states one invocation each."""
    u = m.usage
    assert u.scheduler_invocations == 1 and u.api_requests == 0
    assert all(inv.seconds > 0 and inv.log_bytes > 0 for inv in u.invocations)
    assert m.execution is not None
    entered = _states_entered(h, m.execution)
    entered.pop("UpdateShard", None)  # a child execution's state, where moto lists it
    parent = Counter(u.states)
    parent.pop("UpdateShard", None)
    assert parent == entered and u.transitions_parent == parent.total() > 0
    by_fn = Counter(i.function for i in u.invocations)
    for state, function in TASKS.items():
        assert by_fn[function] == parent[state]
    assert by_fn["FinalizeFunction"] == sum(parent[state] for state in FINALIZING) == 1


def test_the_memory_pass_traces_every_function_of_a_second_setup_and_run(h: Harness) -> None:
    # Given the counting meter and a memory meter
    counting = Meter().attach(h.stack)
    tracer = Meter(memory=True)
    try:
        # When the scenarios run with the memory meter for the next file
        counted, traced = CostBench(h.env, counting, h.files_dir).platform(
            "woocommerce", ROWS, CHANGES, log=_quiet, traced=tracer
        )
    finally:
        counting.detach()
    # Then the counted invocations carry no peak (their durations are not tracing's) ...
    assert all(i.peak_bytes is None for m in counted for i in m.usage.invocations)
    # ... and the traced ones do: a second store's setup, the next file's run and an apply
    # of a preview (the preview untraced), as many changes, each function with a peak
    assert [m.scenario for m in traced] == ["traced setup", "traced run", "traced apply"]
    for m in traced[1:]:
        assert m.status == "succeeded" and m.counts["updated"] == CHANGES
    peaks = {i.function: i.peak_bytes for m in traced for i in m.usage.invocations}
    assert {"CatalogImportFunction", "ParseFunction", "MatchFunction", "SelectFunction"} <= set(
        peaks
    )
    assert "ParseFunction" not in {i.function for i in traced[2].usage.invocations}
    assert all(peak is not None and peak > 0 for peak in peaks.values())


def test_a_repeat_run_a_preview_and_its_apply_are_counted_as_scenarios_of_their_own(
    h: Harness, meter: Meter
) -> None:
    # Given the meter on the local stack and a WooCommerce store of 40 items
    bench = CostBench(h.env, meter, h.files_dir)
    # When, after the scheduled run and the unchanged check, the scheduler fires the next
    # file (a repeat run), then the merchant previews another (8 changes) and applies all
    # of it through the API
    counted, _ = bench.platform("woocommerce", ROWS, CHANGES, log=_quiet, apply=True, repeat=True)
    repeat, preview, applied = counted[-3:]
    # Then the repeat run is a scheduled run of its own, with its changes written
    assert (repeat.scenario, repeat.status) == ("repeat run: the next file", "succeeded")
    assert repeat.counts["updated"] == CHANGES and repeat.usage.scheduler_invocations == 1
    # Then the preview wrote nothing to the store and ran no select or update
    assert (preview.scenario, preview.status) == ("preview of the next file", "previewed")
    by_fn = Counter(i.function for i in preview.usage.invocations)
    assert by_fn["ParseFunction"] == by_fn["MatchFunction"] == 1
    assert by_fn["SelectFunction"] == by_fn["UpdateFunction"] == 0
    # And the apply selected the stored changes (no fetch, no parse) and wrote all 8
    assert (applied.status, applied.counts["updated"]) == ("succeeded", CHANGES)
    by_fn = Counter(i.function for i in applied.usage.invocations)
    assert by_fn["SelectFunction"] == 1 and by_fn["UpdateFunction"] >= 1
    assert by_fn["FetchFunction"] == by_fn["ParseFunction"] == 0
    assert applied.usage.api_requests == 1 and applied.usage.transitions_parent > 0
