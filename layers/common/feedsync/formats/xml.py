"""XML feeds, streamed with defusedxml's ``iterparse`` (entity declarations and external
references are refused: billion-laughs and XXE files fail with FeedFormatError).

``record_path`` names the record element by its path, slash-separated, matched
against the end of each element's path from the root (``"catalog/item"`` or just
``"item"``). A segment is ``name`` (any namespace), ``{uri}name`` or ``prefix:name``
with ``namespaces={"prefix": "uri"}``; ``*`` matches any element. Without a record
path, the root's first child element names the records (``<root><product>...``).

Columns: ``@attr`` for the record's attributes, ``child`` for a child element's text,
``child/grandchild`` for deeper ones and ``child@attr`` for a child's attributes (local
names, namespaces dropped; the first of repeated children wins). The header is the
union over the first 1,000 records. Row numbers are record ordinals (1-based).
Finished records are cleared and detached, so memory stays flat.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from itertools import chain, islice
from typing import Any, Final

from defusedxml import DefusedXmlException, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import ParseError, iterparse

from feedsync.domain.feed import Record
from feedsync.errors import FeedFormatError, NoDataRowsError
from feedsync.formats.table import Table, union_header

HEADER_SAMPLE: Final = 1000
_DECL_RE: Final = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")

Matcher = tuple[str | None, str]  # (namespace uri or None = any, local name or "*")


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _split(tag: str) -> Matcher:
    if tag.startswith("{"):
        uri, _, local = tag[1:].partition("}")
        return uri, local
    return "", tag


def parse_path(
    record_path: str, namespaces: Mapping[str, str] | None, file_name: str
) -> list[Matcher]:
    segments: list[Matcher] = []
    for seg in re.findall(r"\{[^}]*\}[^/]+|[^/]+", record_path):
        if seg.startswith("{"):
            segments.append(_split(seg))
        elif ":" in seg:
            prefix, _, local = seg.partition(":")
            if not namespaces or prefix not in namespaces:
                raise FeedFormatError(
                    f"{file_name}: record path prefix {prefix!r} is not in the format's "
                    "'namespaces'"
                )
            segments.append((namespaces[prefix], local))
        else:
            segments.append((None, seg))
    if not segments:
        raise FeedFormatError(f"{file_name}: the record path {record_path!r} is empty")
    return segments


def _matches(stack: list[Matcher], segments: list[Matcher]) -> bool:
    if len(stack) < len(segments):
        return False
    for (uri, local), (want_uri, want_local) in zip(stack[-len(segments) :], segments, strict=True):
        if want_local != "*" and local != want_local:
            return False
        if want_uri is not None and uri != want_uri:
            return False
    return True


def _flatten(elem: Any, key: str, out: dict[str, str]) -> None:
    if key not in out and (len(elem) == 0 or (elem.text and elem.text.strip())):
        out[key] = (elem.text or "").strip()
    for name, value in elem.attrib.items():
        out.setdefault(f"{key}@{_local(name)}", value)
    for child in elem:
        _flatten(child, f"{key}/{_local(child.tag)}", out)


def _record(elem: Any) -> dict[str, str]:
    out = {f"@{_local(k)}": v for k, v in elem.attrib.items()}
    for child in elem:
        _flatten(child, _local(child.tag), out)
    return out


def declared_encoding(path: str) -> str:
    with open(path, "rb") as fh:
        head = fh.read(200)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    m = _DECL_RE.match(head.lstrip(b"\xef\xbb\xbf"))
    return m.group(1).decode("ascii").lower() if m else "utf-8"


def read_xml(
    path: str,
    file_name: str,
    *,
    record_path: str | None,
    namespaces: Mapping[str, str] | None,
    stack: ExitStack,
) -> Table:
    segments = parse_path(record_path, namespaces, file_name) if record_path else None
    fh = stack.enter_context(open(path, "rb"))  # noqa: SIM115
    state: dict[str, Any] = {"path": record_path}
    seen_paths: dict[str, None] = {}

    def parsed() -> Iterator[tuple[int, dict[str, str]]]:
        nonlocal segments
        tags: list[Matcher] = []
        elems: list[Any] = []
        depth_in: int | None = None  # depth of the record being built
        n = 0
        try:
            for event, elem in iterparse(fh, events=("start", "end")):
                if event == "start":
                    tags.append(_split(elem.tag))
                    elems.append(elem)
                    if len(tags) <= 3:
                        seen_paths.setdefault("/".join(t[1] for t in tags))
                    if segments is None and len(tags) == 2:
                        segments = [tags[0], tags[1]]
                        state["path"] = f"{tags[0][1]}/{tags[1][1]}"
                    if depth_in is None and segments is not None and _matches(tags, segments):
                        depth_in = len(tags)
                    continue
                if depth_in == len(tags):
                    n += 1
                    yield n, _record(elem)
                    depth_in = None
                    elem.clear()
                    if len(elems) >= 2:
                        elems[-2].remove(elem)
                elif depth_in is None:
                    elem.clear()
                tags.pop()
                elems.pop()
        except EntitiesForbidden as exc:
            if exc.sysid or exc.pubid:  # <!ENTITY x SYSTEM "file:///..."> (XXE), not expansion
                raise FeedFormatError(
                    f"{file_name}: the XML declares entities (entity {exc.name!r} refers to the "
                    f"external resource {exc.sysid or exc.pubid!r}); external entities are "
                    "refused for safety"
                ) from exc
            raise FeedFormatError(
                f"{file_name}: the XML declares entities (entity {exc.name!r}); entity "
                "expansion is refused for safety (e.g. 'billion laughs')"
            ) from exc
        except ExternalReferenceForbidden as exc:
            raise FeedFormatError(
                f"{file_name}: the XML refers to an external resource ({exc.sysid!r}); "
                "external entities are refused for safety"
            ) from exc
        except DefusedXmlException as exc:
            raise FeedFormatError(f"{file_name}: the XML was refused ({exc})") from exc
        except ParseError as exc:
            raise FeedFormatError(f"{file_name}: not well-formed XML ({exc})") from exc

    stream = parsed()
    first = list(islice(stream, HEADER_SAMPLE))
    if not first:
        want = state["path"] or "(the root's children)"
        raise NoDataRowsError(
            f"{file_name}: no records matching record path {want!r}; the document's "
            f"elements include: {', '.join(list(seen_paths)[:12]) or '(none)'}"
        )
    header = union_header([rec for _, rec in first])

    def records() -> Iterator[Record]:
        for n, rec in chain(first, stream):
            yield n, [rec.get(k, "") for k in header]

    info = {"record_path": state["path"], "encoding": declared_encoding(path)}
    return Table(header, records(), info)
