"""Writing plan items in batches, and finding the items the platform refuses.

The platform rejects a whole batch (422; 404/409 for products) when one item is bad.
Its variant batch answer has one ``batch_errors`` entry per refused item, so the writer
knows how many of the batch are bad (never which: the spec's entry names no item index
or id, and its text is never matched) and isolates them by group testing (``_find``): a
test subset of the candidates goes out with the known-good items not yet written (the
pile); when it goes through, all of them are written and the bad ones are in the rest;
when it is refused, its count says how many are in the subset. Candidates as many as
their count are the bad ones and cost no request of their own: their words are the
answer that counted exactly them, or what is left of a group's answer once a test's
entries are taken out. A 413 (the platform's batch limit shrank) sends halves. An answer
without a plausible count (none, or more than the items sent) falls back to bisection.

Expected write requests for a batch with refused items, each place equally likely
(the rejected batch included; ``split_size``):

====================  ===========  ===========
refused items         batch of 10  batch of 50
====================  ===========  ===========
1                     4.8          7.08
2                     6.49         10.91
====================  ===========  ===========

One among n: the split that minimises the expected requests (``_one_bad``: 3.8 and 6.08
after the rejection). That is the least any schedule can do within one batch: the items
are alike, so every test is some subset with the pile, and ``_one_bad`` tries each size.
So at one refused item per 1,000 in batches of 50, a batch alone costs at least 1 + 6.08
/ 20 = 1.304 write requests per minimum. Several: groups of about n / d (two among 50:
10.91, against 11.22 for tests left clean half the time, with each item found by
subtraction sent again for its words).

Less needs the tests to carry items of later batches, which the caller
(``core/shard_send.py``, for a platform with ``Capabilities.carries_pile``) allows:

* ``carried``: the call's first items are a pile an earlier call deferred: good then,
  in the first request with the rest; when it is refused they are suspects still (the
  store may have changed them since: a merchant's lock, a deletion), tested after the
  new items as a group's extras, so a count never clears them by itself;
* ``defer``: the pile left when the refused items are found is answered
  ``item_deferred`` and rides first in the caller's next call. Alone this saves
  nothing in a stream of full batches (the stream is one pile longer, a request at its
  end, what writing it at once costs; priced at its share, pile / 50, the best split
  would promise 5.77 after the rejection and cost 6.14 in a full stream): ``_one_bad``
  keeps counting the last step as a whole request;
* ``more(n)``: a test is filled up to the batch size with the caller's next items
  (``take_spares``; the caller marks their batches in flight before handing them
  over), so a test that goes through writes a full request of items that were to be
  written anyway: only refused tests cost. A refused test's count then covers the
  suspects it held and the items taken along (as rarely refused as any item): they
  become a group whose core is those suspects, its extras the items taken along, and
  the rest of the old group learns its count once that group is decided (``_Later``:
  exact, never assumed). A core no larger than its count has its extras tested first,
  with the pile and nothing more taken along, so the count says whether the core
  holds them all.

Measured in ``bench/bench_known_bad.py`` (one refused item per 1,000 of 35,000, shards
of 20 batches of 50): 4.4 more write requests per refused item, against 6.2 for a
batch alone, or 1.220 requests per minimum against 1.309.

Refused items cost a deletion look-up only when their refusal could mean the store no
longer has them (``responses.names_values_only``: an entry whose ``errors`` name only
values, such as ``price``, says the store read the item), so one refused item per batch
costs 0 or 1 look-up.

An inventory item "tracked by product" goes by its product id when the index says so;
otherwise the platform's 422 names it and it is reported.

An image travels in the same variant item as its price and stock, and an image the
platform cannot download makes it refuse the whole item. So a variant isolated as
refused while it sets an image along with other changes is sent once more without the
image (one request, whatever the refusal said: its text is never matched). When that
goes through, the item is still reported failed (its image is not there, so the index
must not claim it) with the platform's words and a note that the other changes were
written.

Items still refused once isolated, whose refusal could mean a deletion, are looked up
together when the batch is done (``gone.GoneCheck.scopes``): one the store no longer has
is reported with ``ports.item_gone``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, NamedTuple

import requests

from feedsync.core.ports import (
    ItemResult,
    PlanItem,
    item_deferred,
    item_gone,
    item_refused_together,
)
from feedsync.domain.capabilities import Capabilities
from feedsync.platforms.bigcommerce.client import StoreApi
from feedsync.platforms.bigcommerce.endpoints import (
    JSON,
    VARIANT_FIELD,
    VARIANT_IDS,
    WRITES,
    location_id,
    payload,
    request_body,
)
from feedsync.platforms.bigcommerce.gone import GoneCheck
from feedsync.platforms.bigcommerce.responses import (
    error_text,
    names_values_only,
    refusal_names_values_only,
    rejected,
    rejections,
)
from feedsync.platforms.transport import Reply

Owner = tuple[int | None, int | None]  # (product id, variant id) an item writes


class _Words(NamedTuple):
    """The refusal entries of exactly one group's refused items, and the answer they
    came in (for ``error_text``)."""

    response: requests.Response
    entries: list[Any]


def _words(reply: Reply) -> _Words:
    return _Words(reply.response, rejections(reply.body or {}))


def _remaining(words: _Words | None, part: _Words) -> _Words | None:
    """The entries of ``words`` left once ``part`` (a subset's answer) is taken out.

    A test that held ``found`` of a group's refused items took their entries; the rest of
    the group holds the others, so theirs are what is left (a multiset difference of
    the answers' entries, compared whole, never read). None when an entry of ``part`` is
    not among ``words`` (the platform words an item differently per request).
    """
    if words is None:
        return None
    left = list(words.entries)
    for entry in part.entries:
        if entry not in left:
            return None
        left.remove(entry)
    return _Words(words.response, left)


class _Group(NamedTuple):
    """Candidates holding ``bad`` refused items (``words``: their entries, when known):
    the ``core`` suspects, and ``extra`` items taken along from the caller's next ones
    (each about as likely refused as any item of the stream: far less than a suspect)."""

    core: list[int]
    extra: list[int]
    bad: int
    words: _Words | None

    @property
    def candidates(self) -> list[int]:
        return self.core + self.extra


class _Later(NamedTuple):
    """The rest of a group whose test, filled with the caller's next items, was refused:
    it holds the group's refused items the test did not (``bad`` less those found among
    ``test``), known once the test and the items it took along are decided."""

    core: list[int]
    extra: list[int]
    bad: int
    words: _Words | None
    test: list[int]
    fresh: list[int]
    answer: _Words

    @property
    def candidates(self) -> list[int]:
        return self.core + self.extra

    def decide(self, batch: _Batch) -> _Group | None:
        """The group, now that ``test`` and ``fresh`` are decided; None when the counts
        do not add up (the platform counted differently from one request to the next)."""
        refused = [i for i in self.test if _refused_for_good(batch.results[i])]
        left = self.bad - len(refused)
        if not 0 <= left <= len(self.candidates):
            return None
        fresh_refused = any(_refused_for_good(batch.results[i]) for i in self.fresh)
        # None of those refused: the test's answer held the test's refusals only.
        words = None if fresh_refused else _remaining(self.words, self.answer)
        return _Group(self.core, self.extra, left, words)


def _refused_for_good(result: ItemResult | None) -> bool:
    return result is not None and not result.ok and not result.deferred


class _Batch:
    """One ``apply`` call: its operation, bodies, results so far, key and item owners."""

    def __init__(
        self,
        op: str,
        payloads: list[JSON],
        results: list[ItemResult | None],
        key: str,
        owners: list[Owner],
        known_good: int = 0,
        defer: bool = False,
        room: int = 0,
    ) -> None:
        self.op = op
        self.payloads = payloads
        self.results = results
        self.key = key
        # Per item: (product id, variant id) to look up when it is refused for good; the
        # variant id is None where the item stands for its product.
        self.owners = owners
        self.refused: list[int] = []  # items refused for good: looked up together at the end
        # The first ``known_good`` items were found good by an earlier call (a carried pile):
        # suspected after the new ones. ``defer``: a pile left at the end is the caller's.
        self.known_good = known_good
        self.defer = defer
        self.room = room  # items one request takes
        # The caller's next items, asked for to fill tests (None: none, or no more left).
        self.more: Callable[[int], list[PlanItem]] | None = None
        self.at: int | None = None  # the stock location of an inventory batch

    def take_spares(self, room: int) -> list[int]:
        """Up to ``room`` of the caller's next items to fill a test with, added to the
        batch (one the payload check refuses is decided at once and never sent)."""
        taken: list[int] = []
        while self.more is not None and len(taken) < room:
            given = self.more(room - len(taken))
            if not given:
                self.more = None
                break
            for item in given:
                body, problem = payload(self.op, item, self.at)
                self.payloads.append(body)
                self.owners.append(_owner(self.op, item))
                self.results.append(ItemResult(False, problem) if problem else None)
                if not problem:
                    taken.append(len(self.payloads) - 1)
        return taken


class BatchWriter:
    """Writes one store's batches for the operations its capabilities declare."""

    def __init__(self, api: StoreApi, capabilities: Capabilities, gone: GoneCheck) -> None:
        self._api = api
        self.capabilities = capabilities
        self._gone = gone

    def apply(
        self,
        op: str,
        items: list[PlanItem],
        *,
        batch_key: str,
        location: str | None = None,
        carried: int = 0,
        defer: bool = False,
        more: Callable[[int], list[PlanItem]] | None = None,
    ) -> list[ItemResult]:
        """Write one batch of ``op``; one ``(ok, platform message)`` per item, in order.

        ``carried``: the first items are a pile an earlier call deferred (good then);
        ``defer``: a pile left when the refused items are found is answered
        ``item_deferred``, for the caller's next batch; ``more(n)`` (with ``defer``): up
        to ``n`` of the caller's next items, to fill the tests with, each answered after
        ``items`` in the order given (``ports.PileCarrier``).
        More items than the operation takes, or a field it cannot write, is a
        caller bug (ValueError, nothing sent). Items the platform refuses are
        reported, never raised; a store-wide failure raises a named error.
        """
        try:
            spec = self.capabilities.op(op)
        except KeyError:
            raise ValueError(
                f"BigCommerce (inventory via {self._inventory_mode()}) has no write operation "
                f"{op!r}; it has {', '.join(o.name for o in self.capabilities.ops)}"
            ) from None
        if len(items) > spec.max_batch:
            raise ValueError(f"{op} takes at most {spec.max_batch} items, got {len(items)}")
        if not 0 <= carried <= len(items):
            raise ValueError(f"carried must be between 0 and {len(items)} items, got {carried}")
        if more is not None and not defer:
            raise ValueError("more items are asked for only in a call that defers")
        for item in items:
            unknown = set(item.changes or {}) - set(spec.fields)
            if unknown:
                raise ValueError(
                    f"{op} cannot write {', '.join(sorted(unknown))} on BigCommerce "
                    f"(it writes {', '.join(spec.fields)})"
                )
        results: list[ItemResult | None] = [None] * len(items)
        payloads: list[JSON] = []
        send: list[int] = []
        at = location_id(location) if op == "inventory" else None
        for i, item in enumerate(items):
            body, problem = payload(op, item, at)
            payloads.append(body)
            if problem:
                results[i] = ItemResult(False, problem)
            else:
                send.append(i)
        owners = [_owner(op, item) for item in items]
        batch = _Batch(op, payloads, results, batch_key, owners, carried, defer, spec.max_batch)
        batch.more, batch.at = more, at
        self._write(batch, send)
        if batch.refused:  # which of them the store no longer has: one look-up for all
            owners = [batch.owners[i] for i in batch.refused]
            for i, scope in zip(batch.refused, self._gone.scopes(owners), strict=True):
                result = results[i]
                if scope is not None and result is not None:
                    results[i] = item_gone(scope, result.message)
        return [r if r is not None else ItemResult(False, "not sent") for r in batch.results]

    def _inventory_mode(self) -> str:
        names = {o.name for o in self.capabilities.ops}
        return "adjustments" if "inventory" in names else "variants"

    def _put(self, op: str, entries: list[JSON], batch_key: str) -> Reply:
        return self._api.put(WRITES[op], request_body(op, entries, batch_key))

    def _put_items(self, batch: _Batch, indexes: list[int]) -> Reply:
        return self._put(batch.op, [batch.payloads[i] for i in indexes], batch.key)

    def _too_large(self, batch: _Batch, reply: Reply) -> Exception:
        """A single item the platform calls too large: nothing to split, a request bug."""
        return rejected(self._api.where, f"PUT {WRITES[batch.op].path}", reply.response)

    def _write(self, batch: _Batch, indexes: list[int], counted: bool = True) -> None:
        """Send ``indexes``; a rejection is narrowed down to the refused items.

        ``counted``: trust the rejection's count of refused items (False once an answer
        gave an implausible one: plain bisection then).
        """
        if not indexes:
            return
        reply = self._put_items(batch, indexes)
        if _went_through(reply):
            self._record_success(batch, reply, indexes)
            return
        status = reply.response.status_code
        if len(indexes) == 1:
            if status == 413:
                raise self._too_large(batch, reply)
            exists = refusal_names_values_only(reply.response, reply.body)
            self._refused(batch, indexes[0], error_text(reply.response, reply.body), exists=exists)
            return
        if status == 413:  # the platform's batch limit shrank: send halves
            middle = len(indexes) // 2
            batch.room = max(1, min(batch.room, middle))  # and no test larger from now
            self._write(batch, indexes[:middle], counted)
            self._write(batch, indexes[middle:], counted)
            return
        # The whole batch was rejected (nothing applied) because of some item(s).
        count = len(rejections(reply.body or {}))
        # Carried items were good when an earlier call sent them, but the store may have
        # changed them since (a merchant's lock, a deletion): suspects still, tested
        # after the new ones (a group's extras), never cleared by the count alone.
        carried = [i for i in indexes if i < batch.known_good]
        new = [i for i in indexes if i >= batch.known_good]
        if counted and 1 <= count <= len(indexes):
            self._find(batch, new, count, reply, carried)
        else:
            self._isolate(batch, indexes, reply)

    def _find(
        self,
        batch: _Batch,
        indexes: list[int],
        count: int,
        rejection: Reply,
        carried: list[int] | None = None,
    ) -> None:
        """Isolate the ``count`` refused items among ``indexes``, writing every other one.

        Groups of candidates each hold a known number of refused items (and, where one
        answer named exactly those, that answer: their words). A test sends part of a
        group with the pile (known-good items not yet written), filled up with the
        caller's next items (``_Batch.take_spares``): through, all are written; refused,
        its count splits the group. A group's extras (carried items, items taken along)
        are less likely refused than its core: tested once the core is down to its count.
        A refused test that took items along counts them with its part of the group, so
        that part and those items are a group of their own, and the rest of the group
        learns its count once that one is decided (``_Later``). Everything is decided
        before this returns (a batch's results are final for the in-flight marker); with
        ``batch.defer`` the pile left at the end is deferred, not sent.
        """
        groups: list[_Group | _Later] = [
            _Group(indexes, list(carried or ()), count, _words(rejection))
        ]
        pile: list[int] = []
        while groups:
            group = groups.pop()
            if isinstance(group, _Later):
                decided = group.decide(batch)
                if decided is None:  # the answers do not add up: bisect what is left
                    self._bisect(batch, group.candidates)
                    continue
                group = decided
            core, extra, bad, words = group
            if bad == 0:
                pile += core + extra
                continue
            if bad > len(core) + len(extra):  # counted differently from one request to
                self._bisect(batch, core + extra)  # the next: no count trusted for them
                continue
            if len(core) + len(extra) == bad:  # all of them: no request of their own
                self._all_refused(batch, core + extra, words)
                continue
            if extra and len(core) <= bad:
                # The core alone may hold them all: the items taken along are tested
                # (with the pile, nothing more taken), so the count then says.
                test, fresh = extra[: max(1, batch.room - len(pile))], []
                rest_core, rest_extra = core, extra[len(test) :]
            else:
                size = split_size(len(core), bad) if len(core) > bad else len(core) // 2 or 1
                test, rest_core, rest_extra = core[:size], core[size:], extra
                fresh = batch.take_spares(batch.room - len(test) - len(pile))
            ride = pile[: batch.room - len(test)]  # the pile, as much as the request takes
            sent = test + ride + fresh
            reply = self._put_items(batch, sent)
            if _went_through(reply):
                self._record_success(batch, reply, sent)
                pile = pile[len(ride) :]
                groups.append(_Group(rest_core, rest_extra, bad, words))
                continue
            answer = _words(reply)
            found = len(answer.entries)
            most = len(test) + len(fresh) if fresh else min(bad, len(test))
            too_large = reply.response.status_code == 413
            if too_large:  # the platform's batch limit shrank: smaller requests from now
                if len(sent) == 1:
                    raise self._too_large(batch, reply)
                batch.room = max(1, min(batch.room, len(sent) // 2))
            if too_large or not 1 <= found <= most:  # bisect the undecided, no count trusted
                undecided = pile + test + fresh + rest_core + rest_extra
                for other in groups:
                    undecided += other.candidates
                self._bisect(batch, sorted(undecided))
                return
            if fresh:  # how many are the rest's is known once the test's are found
                groups.append(_Later(rest_core, rest_extra, bad, words, test, fresh, answer))
                groups.append(_Group(test, fresh, found, answer))
                continue
            if found == bad:
                pile += rest_core + rest_extra
            else:
                remaining = _remaining(words, answer)
                groups.append(_Group(rest_core, rest_extra, bad - found, remaining))
            groups.append(_Group(test, [], found, answer))
        if batch.defer:  # the caller's next batch carries them
            for i in pile:
                batch.results[i] = item_deferred()
            return
        for start in range(0, len(pile), batch.room):
            self._write(batch, pile[start : start + batch.room])

    def _bisect(self, batch: _Batch, indexes: list[int]) -> None:
        """Plain bisection (no count trusted), a request's worth at a time."""
        for start in range(0, len(indexes), batch.room):
            self._write(batch, indexes[start : start + batch.room], counted=False)

    def _all_refused(self, batch: _Batch, indexes: list[int], words: _Words | None) -> None:
        """Every one of ``indexes`` is refused, and costs no request of its own.

        With the entries of exactly their refusals (``words``: an answer, or what is left
        of one once a test's were taken out), each is reported with its words: one item,
        its own; several, the answer cannot say whose is whose, so each gets them all
        (the first few when there are many). Without them, each is sent alone for its
        own words. Entries that name values only (``names_values_only``) say the store
        has the items: no deletion look-up for them.
        """
        entries = words.entries if words is not None else []
        if words is None or len(entries) != len(indexes):
            for i in indexes:
                self._write(batch, [i])
            return
        texts = list(
            dict.fromkeys(error_text(words.response, {"batch_errors": [e]}) for e in entries)
        )
        why = texts[0]
        if len(texts) > 1:
            shown = " | ".join(texts[:_WORDS_SHOWN])
            more = len(texts) - _WORDS_SHOWN
            why = (
                f"refused with the {len(indexes) - 1} other item(s) of its request, which the "
                f"platform answered: {shown}" + (f" (and {more} more)" if more > 0 else "")
            )
        exists = names_values_only(entries)
        for i in indexes:
            self._refused(batch, i, why, together=len(texts) > 1, exists=exists)

    def _isolate(self, batch: _Batch, indexes: list[int], rejection: Reply) -> None:
        """Find the refused item(s) of a rejected batch whose answer gives no count.

        Bisection that never re-sends what it already knows: when the first half of
        a rejected set goes through, the refusal lies in the second half, which is
        split again without being sent whole. One refused item among n costs about
        1.5 log2(n) extra requests instead of 2 log2(n).
        """
        while len(indexes) > 1:
            middle = len(indexes) // 2
            first, second = indexes[:middle], indexes[middle:]
            reply = self._put_items(batch, first)
            if _went_through(reply):
                self._record_success(batch, reply, first)
                indexes = second  # still rejected as a whole: narrow it down
                continue
            if reply.response.status_code == 413:
                raise self._too_large(batch, reply)
            # Both halves may hold refusals: the second is written (or isolated) as usual.
            self._write(batch, second, counted=False)
            indexes, rejection = first, reply
        if len(rejections(rejection.body or {})) == 1:
            # The last rejection named exactly one problem and this is the only item left.
            exists = refusal_names_values_only(rejection.response, rejection.body)
            why = error_text(rejection.response, rejection.body)
            self._refused(batch, indexes[0], why, exists=exists)
        else:
            self._write(batch, indexes, counted=False)  # its own words

    def _refused(
        self, batch: _Batch, index: int, why: str, together: bool = False, exists: bool = False
    ) -> None:
        """Report the item the platform refused on its own, for ``why`` (its words);
        ``exists``: the refusal named values of it only (no deletion look-up).

        A variant that sets an image along with other changes is sent once more without
        the image (one request): an image the platform cannot download refuses the whole
        item, and its price and stock must not wait for the image. The decision is
        structural, never read from ``why``; if the item is refused without its image
        too, that request was the cost. Either way the item is reported failed, so
        nothing of it is taken as applied: the price and stock written here are read
        back by the next run's refresh (the write moved the product's ``date_modified``).
        """
        op, body = batch.op, batch.payloads[index]
        others = [key for key in body if key not in VARIANT_IDS and key != "image_url"]
        if op != "variants" or "image_url" not in body or not others:
            batch.results[index] = self._refusal(batch, index, why, together, exists)
            return
        without = {key: value for key, value in body.items() if key != "image_url"}
        reply = self._put(op, [without], batch.key)
        if _went_through(reply):
            written = ", ".join(VARIANT_FIELD.get(key, key) for key in others)
            batch.results[index] = ItemResult(
                False,
                f"the image could not be set: {why}; the item's other changes ({written}) "
                "were written without it",
            )
            return
        if reply.response.status_code == 413:
            raise self._too_large(batch, reply)
        again = error_text(reply.response, reply.body)
        batch.results[index] = self._refusal(
            batch,
            index,
            f"{why}; sent again without its image, refused too: {again}",
            exists=refusal_names_values_only(reply.response, reply.body),
        )

    def _refusal(
        self, batch: _Batch, index: int, why: str, together: bool = False, exists: bool = False
    ) -> ItemResult:
        """The result of an item refused for good (``together``: ``why`` are the words for
        several items); unless its refusal says the store has it (``exists``), whether
        the store still has it is asked once the batch is done, for every such item
        together."""
        if not exists:
            batch.refused.append(index)
        return item_refused_together(why) if together else ItemResult(False, why)

    def _record_success(self, batch: _Batch, reply: Reply, indexes: list[int]) -> None:
        """The request went through: every item written, but those a 207 says failed."""
        failed = _partial_failures(batch, reply, indexes)
        for i in indexes:
            batch.results[i] = ItemResult(False, failed[i]) if i in failed else ItemResult(True)


# Above this many candidates with one refused item, a test takes half of them.
_PLANNED = 100
# The platform's words shown for items refused together (the answer does not say whose).
_WORDS_SHOWN = 3


@cache
def _one_bad(candidates: int) -> tuple[float, int]:
    """(expected requests, best test size) to isolate one refused item among
    ``candidates`` (each equally likely), every test carrying the pile, and the pile
    still to write when the item is found (the cost of the last step)."""
    if candidates == 1:
        return 1.0, 0  # found: the pile's own request (a caller with no pile counts 0)
    best = (float("inf"), 1)
    for size in range(1, candidates):
        passed = (candidates - size) / candidates  # the item is in the rest
        rest = 0.0 if candidates - size == 1 else _one_bad(candidates - size)[0]
        expected = 1 + passed * rest + (1 - passed) * _one_bad(size)[0]
        if expected < best[0] - 1e-12:
            best = (expected, size)
    return best


def split_size(candidates: int, bad: int) -> int:
    """How many of ``candidates`` (``bad`` of them refused) the next test sends.

    One refused item: the size that minimises the expected requests (``_one_bad``).
    Several: a group of about ``candidates / bad``, which holds one of them on average
    (fewer requests after the rejection than a test left clean half the time: 9.91
    against 10.16 for two among 50, 5.49 against 5.62 among 10).
    """
    if candidates <= 1:
        return candidates
    if bad == 1:
        return _one_bad(candidates)[1] if candidates <= _PLANNED else candidates // 2
    return max(1, min(candidates - 1, round(candidates / bad)))


def _went_through(reply: Reply) -> bool:
    """Was the request applied (every item, or those a multi-status answer lists)?"""
    return reply.kind == "ok" or reply.response.status_code < 300


def _partial_failures(batch: _Batch, reply: Reply, indexes: list[int]) -> dict[int, str]:
    """A product batch answered 207: the products missing from ``data`` failed."""
    if reply.kind == "ok":
        return {}
    body = reply.body or {}
    data = body.get("data")
    done = {p.get("id") for p in data if isinstance(p, dict)} if isinstance(data, list) else set()
    why = error_text(reply.response, body)
    return {i: why for i in indexes if batch.payloads[i]["id"] not in done}


def _owner(op: str, item: PlanItem) -> Owner:
    """Which product (and variant of it) an item writes, to ask whether it still exists."""
    pid = item.product_id
    product_id = None if pid is None else int(pid)
    if op == "products" or (op == "inventory" and item.ref == "product"):
        return product_id, None
    return product_id, int(item.variant_id)
