"""Count what the local stack uses, in the units AWS bills (the cost model's meter).

Switched on with ``Meter().attach(stack)`` and off with ``detach()``; until then nothing
here runs (the stack's hooks are ``None``). While attached it counts:

* Step Functions state transitions: every state entered by moto's ASL interpreter, split
  into the parent execution's and the Distributed Map's child executions' (a child's
  states run with ``$$.Map`` set);
* Lambda: one invocation per in-process handler call, its wall time (minus the meter's own
  book-keeping), the bytes it logged and, with ``Meter(memory=True)``, its peak of traced
  Python memory (``tracemalloc``, on only while invocations run; exact when it ran alone,
  an upper bound marked ``overlapped`` when others ran at the same time; the functions in
  ``alone`` wait until nothing else runs, so theirs is exact: the notify function's event
  arrives while finalize is still running). Tracing slows Python code several times over,
  so a memory pass's durations are not the ones to bill;
* every AWS API call a handler makes (a patched ``BaseClient._make_api_call``, attributed
  to the invocation on the calling thread; calls outside an invocation, such as a bench
  polling its run, are not the product's and are not counted), priced by kind: DynamoDB
  read and write request units from item sizes (moto reports no consumed capacity, so
  sizes are read from moto's own backend, in process, before and after each write), S3
  requests by class and bytes by key prefix, Secrets Manager calls, EventBridge entries,
  SNS publishes;
* API Gateway requests (``apiserver``) and EventBridge Scheduler invocations
  (``scheduler_tick``), which call ``api_request`` / ``scheduler_invocation``.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

REGION = "us-east-1"
ACCOUNT = "123456789012"
KB = 1024
# S3 bills PUT, COPY, POST and LIST requests at one rate, GET and every other request
# (HEAD included) at another; deletes and aborts are free.
S3_FREE = frozenset({"DeleteObject", "DeleteObjects", "AbortMultipartUpload"})
S3_CLASS_A_PREFIXES = ("Put", "Copy", "List", "Create", "Complete", "Upload", "Post", "Restore")
DYNAMO_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem"})
# What the Lambda runtime itself logs per invocation (START / END / REPORT lines, as
# CloudWatch Logs receives them), with a request id and figures of typical width.
RUNTIME_LOG_LINES = (
    "START RequestId: 00000000-0000-0000-0000-000000000000 Version: $LATEST\n"
    "END RequestId: 00000000-0000-0000-0000-000000000000\n"
    "REPORT RequestId: 00000000-0000-0000-0000-000000000000\tDuration: 1234.56 ms\t"
    "Billed Duration: 1235 ms\tMemory Size: 1769 MB\tMax Memory Used: 123 MB\t\n"
    "XRAY TraceId: 1-00000000-000000000000000000000000\tSegmentId: 0000000000000000\t"
    "Sampled: true\t\n"
)


def s3_request_class(operation: str) -> str | None:
    """ "A" (PUT/COPY/POST/LIST), "B" (GET, HEAD and the rest) or None (free)."""
    if operation in S3_FREE:
        return None
    return "A" if operation.startswith(S3_CLASS_A_PREFIXES) else "B"


# ----------------------------------------------------------------- DynamoDB item sizes
def _number_size(text: str) -> int:
    """DynamoDB: about one byte per two significant digits, plus one byte."""
    digits = Decimal(text).normalize().as_tuple().digits
    return (len(digits) + 1) // 2 + 1


def value_size(typed: dict[str, Any]) -> int:
    """The size of one attribute value in DynamoDB's typed JSON, by DynamoDB's rules."""
    (kind, value), *_ = typed.items()
    if kind == "S":
        return len(str(value).encode("utf-8"))
    if kind == "N":
        return _number_size(str(value))
    if kind == "B":
        return len(value) if isinstance(value, bytes | bytearray) else math.ceil(len(value) * 3 / 4)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(v).encode("utf-8")) for v in value)
    if kind == "NS":
        return sum(_number_size(str(v)) for v in value)
    if kind == "BS":
        return sum(value_size({"B": v}) for v in value)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in value)
    if kind == "M":
        return 3 + sum(1 + len(k.encode("utf-8")) + value_size(v) for k, v in value.items())
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def item_size(item: dict[str, Any] | None) -> int:
    """An item's size: attribute names plus values (0 for no item)."""
    if not item:
        return 0
    return sum(len(name.encode("utf-8")) + value_size(v) for name, v in item.items())


def write_units(size: int) -> int:
    """Write request units: one per started KB, at least one."""
    return max(1, math.ceil(size / KB))


def read_units(size: int, consistent: bool) -> float:
    """Read request units: one per started 4 KB strongly consistent, half eventually."""
    units = max(1, math.ceil(size / (4 * KB)))
    return float(units) if consistent else units / 2


class MotoTables:
    """Items as moto's DynamoDB backend holds them (the server runs in this process)."""

    def _table(self, name: str) -> Any:
        from moto.dynamodb.models import dynamodb_backends

        return dynamodb_backends[ACCOUNT][REGION].get_table(name)

    def item(self, table_name: str, key: dict[str, Any]) -> dict[str, Any] | None:
        table = self._table(table_name)
        keys = {table.hash_key_attr: key[table.hash_key_attr]}
        if table.range_key_attr is not None:
            keys[table.range_key_attr] = key[table.range_key_attr]
        from moto.dynamodb.models.dynamo_type import DynamoType

        for _attempt in range(10):
            found = table.get_item(
                DynamoType(keys[table.hash_key_attr]),
                DynamoType(keys[table.range_key_attr]) if table.range_key_attr else None,
            )
            try:
                return None if found is None else dict(found.to_json()["Attributes"])
            except RuntimeError:  # moto's server thread changed it as we read: read again
                continue
        raise RuntimeError(f"{table_name}: the item kept changing while it was read")

    def index_keys(self, table_name: str) -> list[tuple[str, ...]]:
        """Each global secondary index's key attributes (an item is in it when it has them)."""
        table = self._table(table_name)
        return [
            tuple(part["AttributeName"] for part in index.schema)
            for index in getattr(table, "global_indexes", [])
        ]


# -------------------------------------------------------------------------- the counts
@dataclass
class Invocation:
    """One Lambda invocation as measured here."""

    function: str
    seconds: float
    peak_bytes: int | None  # traced Python allocations above the start (None: not traced)
    overlapped: bool  # other invocations ran meanwhile: the peak is an upper bound
    log_bytes: int


@dataclass
class Usage:
    """What a scenario used, in billing units."""

    transitions_parent: int = 0
    transitions_child: int = 0
    states: Counter[str] = field(default_factory=Counter)
    invocations: list[Invocation] = field(default_factory=list)
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    dynamodb_read_units: float = 0.0
    dynamodb_write_units: float = 0.0
    s3_requests: Counter[str] = field(default_factory=Counter)  # "A" / "B"
    s3_bytes_put: Counter[str] = field(default_factory=Counter)  # by first key segment
    s3_bytes_got: int = 0
    api_requests: int = 0
    scheduler_invocations: int = 0
    events_entries: int = 0
    sns_publishes: int = 0
    log_bytes: int = 0

    @property
    def transitions(self) -> int:
        return self.transitions_parent + self.transitions_child

    @property
    def secrets_calls(self) -> int:
        return sum(n for (service, _op), n in self.calls.items() if service == "secretsmanager")

    def by_function(self) -> dict[str, list[Invocation]]:
        out: dict[str, list[Invocation]] = {}
        for inv in self.invocations:
            out.setdefault(inv.function, []).append(inv)
        return out


class _CountingStream:
    """Stands in for a log handler's stream: counts the bytes per invocation, drops them
    (or passes them on when ``echo``)."""

    def __init__(self, meter: Meter, original: Any, echo: bool) -> None:
        self.meter = meter
        self.original = original
        self.echo = echo

    def write(self, text: str) -> int:
        self.meter._logged(len(text.encode("utf-8")))
        if self.echo:
            return int(self.original.write(text))
        return len(text)

    def flush(self) -> None:
        if self.echo:
            self.original.flush()


class _Attributed:
    """An S3 transfer's task (run on s3transfer's own threads) counted against the
    invocation that started the transfer."""

    def __init__(self, task: Any, function: str, meter: Meter) -> None:
        self._task, self._function, self._meter = task, function, meter

    def __getattr__(self, name: str) -> Any:
        return getattr(self._task, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        local = self._meter._local
        outer = getattr(local, "function", None)
        local.function, local.overhead, local.logged = self._function, 0.0, 0
        try:
            return self._task(*args, **kwargs)
        finally:
            local.function = outer


class Meter:
    """Counts a scenario's usage on the local stack; ``reset()`` between scenarios."""

    def __init__(
        self,
        *,
        memory: bool = False,
        traced: frozenset[str] | None = None,
        alone: frozenset[str] = frozenset(),
        echo_logs: bool = False,
    ) -> None:
        self.memory = memory
        self.traced = traced  # the functions whose invocations are traced (None: all)
        # With memory: functions whose invocations start only when nothing else runs (an
        # asynchronous one, whose peak would otherwise hold its caller's allocations).
        self.alone = alone
        self.echo_logs = echo_logs
        self.usage = Usage()
        self.tables = MotoTables()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)  # notified when an invocation ends
        self._local = threading.local()
        self._running: list[list[bool]] = []  # one overlapped flag per running invocation
        self._tracing = False  # tracemalloc started by this meter, for the running ones
        self._peak_base = 0
        self._stack: Any = None
        self._patched: list[tuple[Any, str, Any]] = []  # (owner, name, original)
        self._streams: list[tuple[Any, Any]] = []

    # ------------------------------------------------------------------ switch on / off
    def attach(self, stack: Any) -> Meter:
        """Switch counting on for ``stack`` (a ``LocalStack``) and this process's clients."""
        import botocore.client
        from moto.stepfunctions.parser.asl.component.state.state import CommonStateField
        from s3transfer.futures import BoundedExecutor

        self._stack = stack
        stack.meter = self
        for fn in stack.functions.values():
            fn.meter = self
        meter = self
        targets: list[tuple[Any, str]] = [
            (botocore.client.BaseClient, "_make_api_call"),
            (CommonStateField, "_eval_body"),
            (BoundedExecutor, "submit"),
        ]
        api_call, state_body, transfer_submit = (getattr(o, n) for o, n in targets)

        def make_api_call(client: Any, operation: str, params: dict[str, Any]) -> Any:
            if getattr(meter._local, "function", None) is None:
                return api_call(client, operation, params)
            return meter._counted_call(api_call, client, operation, params)

        def eval_body(state: Any, env: Any) -> None:
            child = env.states.context_object.context_object_data.get("Map") is not None
            meter._entered(str(state.name), child)
            state_body(state, env)

        def submit(executor: Any, task: Any, tag: Any = None, block: bool = True) -> Any:
            function = getattr(meter._local, "function", None)
            if function is not None:
                task = _Attributed(task, function, meter)
            return transfer_submit(executor, task, tag, block)

        for (owner, name), patch in zip(targets, (make_api_call, eval_body, submit), strict=True):
            self._patched.append((owner, name, getattr(owner, name)))
            setattr(owner, name, patch)
        return self

    def detach(self) -> None:
        """Switch counting off: every patch undone, the log streams given back."""
        if self._stack is None:
            return
        for owner, name, original in reversed(self._patched):
            setattr(owner, name, original)
        self._patched.clear()
        for handler, stream in self._streams:
            handler.stream = stream
        self._streams.clear()
        for fn in self._stack.functions.values():
            fn.meter = None
        self._stack.meter = None
        self._stack = None

    def running(self) -> int:
        """Invocations running now."""
        with self._lock:
            return len(self._running)

    def reset(self) -> Usage:
        """The usage so far; counting starts again from zero."""
        with self._lock:
            usage, self.usage = self.usage, Usage()
        return usage

    # ----------------------------------------------------------------- what hooks call
    def api_request(self) -> None:
        with self._lock:
            self.usage.api_requests += 1

    def scheduler_invocation(self) -> None:
        with self._lock:
            self.usage.scheduler_invocations += 1

    def _entered(self, state: str, child: bool) -> None:
        with self._lock:
            self.usage.states[state] += 1
            if child:
                self.usage.transitions_child += 1
            else:
                self.usage.transitions_parent += 1

    @contextmanager
    def invocation(self, function: str) -> Iterator[None]:
        """Around one handler call (``LocalFunction`` calls this when metered)."""
        self._count_logs()
        local = self._local
        outer = getattr(local, "function", None)
        local.function, local.overhead, local.logged = function, 0.0, 0
        overlapped = [False]
        with self._lock:
            if self.memory and function in self.alone and outer is None:
                while self._running:  # never nested in a call on this thread (no deadlock)
                    self._idle.wait()
            if not self._running:
                # Traced only while invocations run (tracing slows Python code several
                # times over: a memory pass's durations are not billed).
                wanted = self.traced is None or function in self.traced
                if self.memory and wanted and not tracemalloc.is_tracing():
                    tracemalloc.start()
                    self._tracing = True
                if self._tracing:
                    tracemalloc.reset_peak()
                    self._peak_base = tracemalloc.get_traced_memory()[0]
            else:
                overlapped[0] = True
                for flag in self._running:
                    flag[0] = True
            self._running.append(overlapped)
        started = time.perf_counter()
        try:
            yield
        finally:
            seconds = time.perf_counter() - started - local.overhead
            logged = local.logged + len(RUNTIME_LOG_LINES)
            with self._lock:
                peak = None
                if self._tracing:
                    peak = max(0, tracemalloc.get_traced_memory()[1] - self._peak_base)
                self._running = [f for f in self._running if f is not overlapped]
                self._idle.notify_all()
                if self._tracing and not self._running:
                    tracemalloc.stop()
                    self._tracing = False
                self.usage.invocations.append(
                    Invocation(function, seconds, peak, overlapped[0], logged)
                )
                self.usage.log_bytes += logged
            local.function = outer

    def _logged(self, size: int) -> None:
        if getattr(self._local, "function", None) is not None:
            self._local.logged += size

    def _count_logs(self) -> None:
        """Route the handlers' log output (Powertools writes JSON lines to a stream
        handler on the service's logger) through a counter; once per handler."""
        logger = logging.getLogger("feedsync")
        with self._lock:
            for handler in logger.handlers:
                stream = getattr(handler, "stream", None)
                if stream is None or isinstance(stream, _CountingStream):
                    continue
                self._streams.append((handler, stream))
                handler.stream = _CountingStream(self, stream, self.echo_logs)  # type: ignore[attr-defined]

    # ------------------------------------------------------------ one AWS call, counted
    def _counted_call(
        self, api_call: Any, client: Any, operation: str, params: dict[str, Any]
    ) -> Any:
        service = client.meta.service_model.service_name
        t0 = time.perf_counter()
        before = self._before(service, operation, params)
        self._local.overhead += time.perf_counter() - t0
        response: Any = None
        try:
            response = api_call(client, operation, params)
            return response
        finally:
            t1 = time.perf_counter()
            self._after(service, operation, params, response, before)
            self._local.overhead += time.perf_counter() - t1

    def _before(self, service: str, operation: str, params: dict[str, Any]) -> Any:
        if service == "s3" and operation in ("PutObject", "UploadPart"):
            return _body_size(params)  # before botocore wraps the body in a stream
        if service != "dynamodb":
            return None
        if operation in DYNAMO_WRITES:
            return self._old_item(params["TableName"], operation, params)
        if operation == "TransactWriteItems":
            return [self._old_transact(entry) for entry in params["TransactItems"]]
        return None

    def _old_item(self, table: str, operation: str, params: dict[str, Any]) -> Any:
        key = params["Item"] if operation == "PutItem" else params["Key"]
        return self.tables.item(table, key)

    def _old_transact(self, entry: dict[str, Any]) -> tuple[str, dict[str, Any], Any]:
        (kind, body), *_ = entry.items()
        key = body["Item"] if kind == "Put" else body["Key"]
        return body["TableName"], key, self.tables.item(body["TableName"], key)

    def _after(
        self, service: str, operation: str, params: dict[str, Any], response: Any, before: Any
    ) -> None:
        read = write = 0.0
        a_or_b: str | None = None
        put: tuple[str, int] | None = None
        got = entries = published = 0
        if service == "dynamodb":
            read, write = self._dynamodb_units(operation, params, response, before)
        elif service == "s3":
            a_or_b = s3_request_class(operation)
            if operation in ("PutObject", "UploadPart") and response is not None:
                size = before
                if size is None and operation == "PutObject":
                    size = _stored_size(params["Bucket"], params["Key"])
                put = (str(params.get("Key", "")).split("/", 1)[0], size or 0)
            if operation == "GetObject" and response is not None:
                got = int(response.get("ContentLength") or 0)
        elif service == "events" and operation == "PutEvents":
            entries = len(params.get("Entries", []))
        elif service == "sns" and operation == "Publish":
            published = 1
        with self._lock:
            usage = self.usage
            usage.calls[(service, operation)] += 1
            usage.dynamodb_read_units += read
            usage.dynamodb_write_units += write
            if a_or_b:
                usage.s3_requests[a_or_b] += 1
            if put:
                usage.s3_bytes_put[put[0]] += put[1]
            usage.s3_bytes_got += got
            usage.events_entries += entries
            usage.sns_publishes += published

    def _dynamodb_units(
        self, operation: str, params: dict[str, Any], response: Any, before: Any
    ) -> tuple[float, float]:
        if operation in DYNAMO_WRITES:
            table = params["TableName"]
            key = params["Item"] if operation == "PutItem" else params["Key"]
            return 0.0, self._write_units(table, before, self.tables.item(table, key), 1)
        if operation == "TransactWriteItems":
            return 0.0, sum(
                self._write_units(table, old, self.tables.item(table, key), 2)
                for table, key, old in before
            )
        if response is None:  # a failed read: DynamoDB bills the minimum
            return (0.5, 0.0) if operation in ("GetItem", "Query", "Scan") else (0.0, 0.0)
        consistent = bool(params.get("ConsistentRead")) and not params.get("IndexName")
        if operation == "GetItem":
            return read_units(item_size(response.get("Item")), consistent), 0.0
        if operation in ("Query", "Scan"):
            size = sum(item_size(item) for item in response.get("Items", []))
            return read_units(size, consistent), 0.0
        if operation == "BatchGetItem":
            return sum(
                read_units(item_size(item), False)
                for items in response.get("Responses", {}).values()
                for item in items
            ), 0.0
        if operation == "TransactGetItems":
            return sum(
                2 * read_units(item_size(r.get("Item")), True)
                for r in response.get("Responses", [])
            ), 0.0
        if operation == "BatchWriteItem":
            return 0.0, float(
                sum(
                    write_units(item_size(req.get("PutRequest", {}).get("Item")))
                    for reqs in params.get("RequestItems", {}).values()
                    for req in reqs
                )
            )
        return 0.0, 0.0

    def _write_units(self, table: str, old: Any, new: Any, factor: int) -> float:
        """A write costs the larger of the item before and after; each global secondary
        index that holds the item before or after is written too (same projected size:
        the table's index projects ALL)."""
        units = write_units(max(item_size(old), item_size(new)))
        for keys in self.tables.index_keys(table):
            in_old = bool(old) and all(k in old for k in keys)
            in_new = bool(new) and all(k in new for k in keys)
            if in_new:
                units += write_units(item_size(new))
            if in_old and (not in_new or any(old[k] != new[k] for k in keys)):
                units += write_units(item_size(old))
        return float(units * factor)


def _body_size(params: dict[str, Any]) -> int | None:
    """The bytes a PutObject or UploadPart sends, when the body tells (None: it does not)."""
    body = params.get("Body")
    if body is None:
        return 0
    if isinstance(body, bytes | bytearray | memoryview):
        return len(body)
    if isinstance(body, str):
        return len(body.encode("utf-8"))
    try:
        return len(body)
    except TypeError:
        return None


def _stored_size(bucket: str, key: str) -> int:
    """The size of the object moto's S3 backend now holds under ``key``."""
    from moto.s3.models import s3_backends

    try:
        stored = s3_backends[ACCOUNT]["aws"].get_object(bucket, key)
        return 0 if stored is None else int(stored.size)
    except Exception:  # gone again already: nothing left to bill as storage
        return 0
