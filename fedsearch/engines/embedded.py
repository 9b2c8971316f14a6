"""Embedded engine: a tantivy index on disk, no server to run (docs/engines.md).

Layout under `path` (the data directory's `index/`):
- `CURRENT`: the name of the live generation directory, replaced atomically
  (write a temporary file, rename it over) when `rebuild` switches;
- `gen-<time>-<pid>/`: one tantivy index each, plus `fedsearch.json` naming the
  schema version it was built with;
- `writer.lock`: held (flock) by the one process that writes.

One process writes, any number read. Readers use tantivy's manual reload policy
and look, before each search, whether `CURRENT` or the generation's
`meta.json` changed (two `stat` calls); if so they reopen or reload. A commit
by the writer process is therefore visible to every reader on its next search.

Sorting. tantivy orders by one key only, and every sort here breaks ties by id
(ascending), like the Elasticsearch engine:
- newest / oldest / title use one composite key per document (sort_*), a text
  fast field that is unique and orders exactly as (year or title, id). The
  cursor is that key; the next page is "key > cursor", a range query.
- relevance fetches the top hits by score and orders each group of equal
  scores by id, read from u64 fast fields that encode the id in an
  order-preserving way (idkey*, no stored document is loaded). The cursor is
  (score, id, position); the position only says where to start looking.
- a query that scores every hit the same (no words) is sorted by id directly.
Ordering by a text fast field costs tantivy ~10 µs per hit up to offset +
limit, so a deep page (page=N) first skips ahead on numeric columns that
order like the key (coarse_*, then idkey*): the value at the offset, the
count below it, and so on, then orders only what is left.

Facets are terms aggregations (Elasticsearch's JSON) under every filter but
the facet's own, with no per-segment cut, so counts are exact as on a
one-shard Elasticsearch index; ties in count are ordered by value here.
"""

from __future__ import annotations

import base64
import errno
import fcntl
import heapq
import json
import os
import re
import shutil
import threading
import time
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import tantivy
from pydantic import ValidationError
from tantivy import Occur, Order
from tantivy import Query as TQ

from fedsearch.engines import embedded_changes
from fedsearch.engines.base import (
    BulkError,
    BulkReport,
    EngineError,
    EngineHealth,
    EngineHits,
    EngineUnavailable,
    FacetValue,
    InvalidCursor,
    SearchEngine,
)
from fedsearch.engines.changes import Change, ChangeQuery, DepartureLog
from fedsearch.engines.document import FIELDS, index_document
from fedsearch.engines.document import bucket_value as _bucket_value
from fedsearch.engines.facetcache import FacetCache, facet_key
from fedsearch.engines.query import (
    Bool,
    Clause,
    Constant,
    Fuzzy,
    MatchAll,
    Phrase,
    Plan,
    Prefix,
    SearchQuery,
    Sort,
    Term,
)
from fedsearch.record import Record

SCHEMA_VERSION = 3  # 3: members and shard keywords (issue 16); 2: issue 13's Kyrgyz stems, cross-script keys from stems, the exact field
POINTER = "CURRENT"
META_FILE = "fedsearch.json"
LOCK_FILE = "writer.lock"
# Works that left the index (fedsearch/engines/changes.py), beside the index at the top of the data
# directory, where `fedsearch backup` copies every SQLite database.
DEPARTURES_FILE = "departures.sqlite"
TERMS_TOKENIZER = "fedsearch_terms"  # whitespace only: the terms arrive analyzed
WRITER_HEAP = 256_000_000
WRITER_THREADS = 2
# Elasticsearch's mapping ignores longer keywords (ignore_above); so do we.
KEYWORD_MAX_CHARS = 8191
ID_MAX_BYTES = 512  # Elasticsearch's limit for _id: such a record could not be in both engines
SORT_FIELDS = {Sort.newest: "sort_newest", Sort.oldest: "sort_oldest", Sort.title: "sort_title"}
ID_KEY_FIELDS = tuple(f"idkey{n}" for n in range(8))
ID_KEY_CHARS = 10  # 6 bits each: 60 bits per u64; ids up to 80 characters order exactly
TITLE_LEVELS = ("coarse_title0", "coarse_title1", "coarse_title2", "coarse_title3")  # 32 bytes of title
COARSE_FIELDS = ("coarse_newest", "coarse_oldest") + TITLE_LEVELS
# Numeric columns, each ordered like the text key once the previous ones are equal.
LEVELS = {
    "sort_newest": ("coarse_newest",) + ID_KEY_FIELDS,
    "sort_oldest": ("coarse_oldest",) + ID_KEY_FIELDS,
    "sort_title": TITLE_LEVELS,
    "id": ID_KEY_FIELDS,
}
# Ordering by a text fast field costs ~10 µs for every hit up to offset + limit; past this
# offset a page skips ahead on the numeric columns first.
DIRECT_OFFSET = 200
TIE_MARGIN = 32
GROWTH = 8  # how much more to fetch when a group of equal scores runs past the window
EXACT_SEGMENT_SIZE = 2**31 - 1
TRANSLATED_QUERIES = 1024  # tantivy Query objects kept per reader, by clause (EmbeddedEngine._translated)
SOURCES_LIMIT = 10_000
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_KEY_RE = re.compile(r"^k[-0-9A-Za-z_]+$")
# Order-preserving 6-bit alphabet, in ASCII order, all safe inside tantivy's query syntax.
_B64 = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
_STD_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_FROM_STD_B64 = str.maketrans(_STD_B64, _B64)
# Id characters in byte order, as codes 1..38 (0 is "past the end", sorting first).
_ID_TO_STD_B64 = str.maketrans({ch: _STD_B64[i + 1] for i, ch in enumerate("-0123456789_abcdefghijklmnopqrstuvwxyz")})
_MASK60 = (1 << 60) - 1
_REGEX_META = re.compile(r"([\\.+*?()|\[\]{}^$])")


# --- keys ------------------------------------------------------------------------------


def encode_key(raw: bytes) -> str:
    """`raw` in 6-bit characters; byte order is kept (a < b  <=>  enc(a) < enc(b))."""
    return base64.b64encode(raw).decode("ascii").rstrip("=").translate(_FROM_STD_B64)


def sort_keys(record_id: str, year: int | None, title_sort: str) -> dict[str, str]:
    """The composite sort keys of one document: unique, and ordered like (key, id)."""
    missing = year is None
    return {
        "sort_newest": "k" + ("x" if missing else f"{9999 - year:04d}") + record_id,
        "sort_oldest": "k" + ("x" if missing else f"{year:04d}") + record_id,
        # \x00 sorts below every character of a title: "abc" + id comes before "abc d" + id.
        "sort_title": "k" + encode_key(title_sort.encode() + b"\x00" + record_id.encode()),
    }


def coarse_keys(year: int | None, title_sort: str) -> dict[str, int]:
    """u64 columns that order like the sort keys but may tie: they let a deep page skip ahead."""
    raw = title_sort.encode()[: 8 * len(TITLE_LEVELS)].ljust(8 * len(TITLE_LEVELS), b"\x00")
    out = {
        "coarse_newest": 10_000 if year is None else 9999 - year,
        "coarse_oldest": 10_000 if year is None else year,
    }
    for n, name in enumerate(TITLE_LEVELS):
        out[name] = int.from_bytes(raw[8 * n : 8 * n + 8], "big")
    return out


def id_key(record_id: str) -> tuple[int, ...]:
    """Eight integers ordered like the id string (exact for ids up to 80 characters).

    Each character becomes a 6-bit code (0 = past the end); base64-decoding the codes
    written as base64 digits packs them, ten to a 60-bit integer.
    """
    width = ID_KEY_CHARS * len(ID_KEY_FIELDS)
    head = record_id[:width]
    if not _ID_RE.match(head):
        raise ValueError(f"not an id: {record_id!r}")
    n = int.from_bytes(base64.b64decode(head.translate(_ID_TO_STD_B64).ljust(width, "A")), "big")
    return tuple((n >> (60 * (len(ID_KEY_FIELDS) - 1 - k))) & _MASK60 for k in range(len(ID_KEY_FIELDS)))


# --- schema ----------------------------------------------------------------------------


def build_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    for name, kind in FIELDS.items():
        if kind == "text":
            sb.add_text_field(name, tokenizer_name=TERMS_TOKENIZER, index_option="position")
        elif kind == "keyword":
            if name == "title_sort":
                continue  # sorted through sort_title, which also holds the id
            sb.add_text_field(name, fast=True, tokenizer_name="raw", index_option="basic")
        elif kind == "int":
            sb.add_integer_field(name, fast=True, indexed=True)
        elif kind == "stored":
            sb.add_bytes_field(name, stored=True)
        else:
            raise ValueError(f"unknown field kind {kind!r} for {name}")
    for name in SORT_FIELDS.values():
        sb.add_text_field(name, fast=True, tokenizer_name="raw", index_option="basic")
    for name in ID_KEY_FIELDS + COARSE_FIELDS:
        sb.add_unsigned_field(name, fast=True)
    return sb.build()


def _terms_analyzer() -> tantivy.TextAnalyzer:
    return tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build()


class _Generation:
    """One opened index directory."""

    def __init__(self, directory: Path, index: tantivy.Index):
        self.directory = directory
        self.index = index
        self.schema = index.schema
        self.meta_sig: tuple[int, int, int] | None = None


def _sig(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


class EmbeddedEngine(SearchEngine):
    name = "embedded"

    def __init__(self, path: Path, writer: bool = False):
        self.path = Path(path)
        self.writable = writer
        self._lock = threading.RLock()  # the opened generation (searches take it briefly)
        self._write_lock = threading.RLock()  # writes, commits and rebuilds, one at a time
        self._gen: _Generation | None = None
        self._pointer_sig: tuple[int, int, int] | None = None
        self._writer: tantivy.IndexWriter | None = None
        self._writer_gen: _Generation | None = None
        self._lock_fd: int | None = None
        self._pending: dict[str, bool] = {}  # id -> present, for writes not yet committed
        self._analyse_seconds = 0.0  # building index documents, for BulkReport.analyse_seconds
        self._schema = build_schema()
        self._facet_cache = FacetCache()
        self._queries: OrderedDict[tuple[str, Clause], tantivy.Query] = OrderedDict()  # see _translated
        self._departures: DepartureLog | None = None

    # --- layout ----------------------------------------------------------------------
    def ensure_index(self) -> None:
        with self._lock:
            self.path.mkdir(parents=True, exist_ok=True)
            if (self.path / POINTER).exists():
                self._sync()
                return
            name, _ = self._create_generation()
            tmp = self.path / f".{POINTER}.{os.getpid()}.{threading.get_ident()}"
            tmp.write_text(name + "\n")
            try:
                os.link(tmp, self.path / POINTER)  # fails if another process got there first
            except FileExistsError:
                shutil.rmtree(self.path / name, ignore_errors=True)
            finally:
                tmp.unlink(missing_ok=True)
            self._sync()

    def _create_generation(self) -> tuple[str, tantivy.Index]:
        name = f"gen-{time.time_ns():x}-{os.getpid()}"
        directory = self.path / name
        directory.mkdir(parents=True)
        index = tantivy.Index(self._schema, str(directory), reuse=False)
        index.register_tokenizer(TERMS_TOKENIZER, _terms_analyzer())
        (directory / META_FILE).write_text(json.dumps({"schema_version": SCHEMA_VERSION}))
        return name, index

    def _open_generation(self, name: str) -> _Generation:
        directory = self.path / name
        meta = json.loads((directory / META_FILE).read_text())
        if meta.get("schema_version") != SCHEMA_VERSION:
            raise EngineError(
                f"the index in {directory} was built by another version of fedsearch "
                f"(schema {meta.get('schema_version')}, this one reads {SCHEMA_VERSION}); run `fedsearch reindex`"
            )
        index = tantivy.Index.open(str(directory))
        index.register_tokenizer(TERMS_TOKENIZER, _terms_analyzer())
        index.config_reader("Manual")
        return _Generation(directory, index)

    def _sync(self) -> _Generation:
        """Open or reload the live generation if another process (or we) changed it."""
        with self._lock:
            for attempt in range(20):
                sig = _sig(self.path / POINTER)
                if sig is None:
                    if self._gen is not None:
                        raise EngineError(f"the index pointer {self.path / POINTER} disappeared")
                    try:
                        self.ensure_index()  # nothing harvested yet: an empty index
                    except OSError as err:
                        raise EngineUnavailable(
                            f"there is no index in {self.path} yet and none can be created there: {err}"
                        ) from err
                    return self._gen  # type: ignore[return-value]
                if sig != self._pointer_sig or self._gen is None:
                    name = (self.path / POINTER).read_text().strip()
                    if self._gen is None or self._gen.directory.name != name:
                        try:
                            gen = self._open_generation(name)
                        except (FileNotFoundError, ValueError, OSError) as err:
                            # A rebuild may have switched and deleted it meanwhile: look again.
                            if attempt == 19:
                                raise EngineError(f"cannot open the index {self.path / name}: {err}") from err
                            time.sleep(0.01 * (attempt + 1))
                            continue
                        self._gen = gen
                    self._pointer_sig = sig
                gen = self._gen
                meta = _sig(gen.directory / "meta.json")
                if meta != gen.meta_sig:
                    try:
                        gen.index.reload()
                    except Exception as err:
                        if attempt == 19:
                            raise EngineError(f"cannot reload the index {gen.directory}: {err}") from err
                        self._pointer_sig = None
                        time.sleep(0.01 * (attempt + 1))
                        continue
                    gen.meta_sig = meta
                return gen
            raise EngineError(f"the index in {self.path} keeps changing; try again")

    def _searcher(self) -> tuple[_Generation, tantivy.Searcher]:
        gen = self._sync()
        return gen, gen.index.searcher()

    # --- writing ---------------------------------------------------------------------
    def _require_writer(self) -> tantivy.IndexWriter:
        if not self.writable:
            raise EngineError(f"the index in {self.path} was opened read-only; writes go through the writer process")
        with self._write_lock:
            self._take_lock()
            gen = self._sync()
            if self._writer is not None and self._writer_gen is not gen:
                self._drop_writer()  # the generation we wrote to was replaced
            if self._writer is None:
                try:
                    self._writer = gen.index.writer(WRITER_HEAP, WRITER_THREADS)
                except ValueError as err:
                    raise EngineError(f"cannot write to the index in {gen.directory}: {err}") from err
                self._writer_gen = gen
            return self._writer

    def _take_lock(self) -> None:
        if self._lock_fd is not None:
            return
        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            os.close(fd)
            if err.errno in (errno.EWOULDBLOCK, errno.EACCES):
                raise EngineError(
                    f"another process is writing to the index in {self.path}; only one writer at a time "
                    "(stop the other harvest or reindex first)"
                ) from None
            raise
        self._lock_fd = fd
        self._remove_orphans()

    def _remove_orphans(self) -> None:
        """Delete generation directories a killed rebuild left (we hold the writer lock: no rebuild runs)."""
        live = self.generation()
        if not live:
            return
        for old in self.path.glob("gen-*"):
            if old.name != live and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)

    def _drop_writer(self) -> None:
        writer, self._writer, self._writer_gen = self._writer, None, None
        if writer is not None:
            try:
                writer.rollback()
                writer.wait_merging_threads()
            except Exception:  # noqa: BLE001 - the writer of a generation we leave
                pass
        self._pending.clear()

    def upsert(self, records: Iterable[Record]) -> BulkReport:
        with self._write_lock:
            writer = self._require_writer()
            return self._add(writer, records, track=True)

    def _add(self, writer: tantivy.IndexWriter, records: Iterable[Record], *, track: bool) -> BulkReport:
        """Add or replace each record; `track` remembers the ids for `delete` until the commit."""
        indexed = 0
        errors: list[BulkError] = []
        analysed_before = self._analyse_seconds
        for item in records:
            try:
                record, doc = self._document(item)
            except _Rejected as err:
                errors.append(BulkError(id=err.record_id, reason=err.reason))
                continue
            try:
                writer.delete_documents_by_term("id", record.id)
                writer.add_document(doc)
            except Exception as err:  # noqa: BLE001 - tantivy refused this one document
                errors.append(BulkError(id=record.id, reason=f"tantivy refused it: {err}"))
                continue
            if track:
                self._pending[record.id] = True
            indexed += 1
        return BulkReport(indexed=indexed, errors=errors, analyse_seconds=self._analyse_seconds - analysed_before)

    def _document(self, item: Any) -> tuple[Record, tantivy.Document]:
        if isinstance(item, Record):
            record = item
        elif isinstance(item, dict):
            try:
                record = Record.model_validate(item)
            except ValidationError as err:
                raise _Rejected(str(item.get("id") or "?"), f"not a valid record: {_short(err)}") from None
        else:
            raise _Rejected(str(getattr(item, "id", None) or "?"), f"not a record but {type(item).__name__}")
        if (
            not isinstance(record.id, str)
            or not record.id
            or len(record.id.encode()) > ID_MAX_BYTES
            or not _ID_RE.match(record.id)
        ):
            raise _Rejected(
                str(record.id), "its id is empty, longer than 512 bytes or has characters other than a-z 0-9 _ -"
            )
        started = time.perf_counter()
        try:
            fields = index_document(record)
        except Exception as err:  # noqa: BLE001 - one bad record must not stop the batch
            raise _Rejected(record.id, f"could not build its index document: {err}") from None
        finally:
            self._analyse_seconds += time.perf_counter() - started
        doc = tantivy.Document()
        try:
            for name, value in fields.items():
                kind = FIELDS[name]
                if kind == "text":
                    for v in value:
                        if v:
                            doc.add_text(name, v)
                elif kind == "keyword":
                    if name == "title_sort":
                        continue
                    for v in [value] if isinstance(value, str) else value:
                        if len(v) <= KEYWORD_MAX_CHARS:
                            doc.add_text(name, v)
                elif kind == "int":
                    if value is not None:
                        if not _I64_MIN <= int(value) <= _I64_MAX:
                            raise _Rejected(record.id, f"{name} {value} is out of range")
                        doc.add_integer(name, int(value))
                elif kind == "stored":
                    doc.add_bytes(name, value.encode())
            for name, key in sort_keys(record.id, record.year, fields["title_sort"]).items():
                doc.add_text(name, key)
            for name, part in zip(ID_KEY_FIELDS, id_key(record.id), strict=True):
                doc.add_unsigned(name, part)
            for name, value in coarse_keys(record.year, fields["title_sort"]).items():
                doc.add_unsigned(name, value)
        except _Rejected:
            raise
        except Exception as err:  # noqa: BLE001
            raise _Rejected(record.id, f"could not build its index document: {err}") from None
        return record, doc

    def delete(self, ids: Iterable[str]) -> int:
        ids = [i for i in dict.fromkeys(ids) if isinstance(i, str) and i]
        if not ids:
            return 0
        with self._write_lock:
            writer = self._require_writer()
            gen, searcher = self._searcher()
            unknown = [i for i in ids if i not in self._pending]
            existed = sum(1 for i in ids if self._pending.get(i))
            if unknown:
                for start in range(0, len(unknown), 1000):
                    chunk = unknown[start : start + 1000]
                    existed += searcher.search(TQ.term_set_query(gen.schema, "id", chunk), 1, count=True).count
            for i in ids:
                writer.delete_documents_by_term("id", i)
                self._pending[i] = False
            return existed

    def commit(self) -> None:
        """tantivy's commit: the segments and meta.json are fsynced before it returns."""
        with self._write_lock:
            if self._writer is not None:
                try:
                    self._writer.commit()
                except ValueError as err:
                    raise EngineError(f"could not commit to the index in {self.path}: {err}") from err
                self._pending.clear()

    def refresh(self) -> None:
        with self._write_lock:
            self.commit()
            self._sync()

    def generation(self) -> str:
        try:
            return (self.path / POINTER).read_text().strip()
        except FileNotFoundError:
            return ""

    def rebuild(self, records: Iterable[Record], before_switch: Callable[[str], None] | None = None) -> BulkReport:
        if not self.writable:
            raise EngineError(f"the index in {self.path} was opened read-only; rebuild from the writer process")
        with self._write_lock:
            self._take_lock()
            self.path.mkdir(parents=True, exist_ok=True)
            name, index = self._create_generation()
            directory = self.path / name
            try:
                writer = index.writer(WRITER_HEAP, WRITER_THREADS)
                # Ids repeated in `records` must still end up once: replace as we go.
                report = self._add(writer, records, track=False)
                writer.commit()
                writer.wait_merging_threads()  # merges done: fewer segments to search
                del writer, index
                if before_switch is not None:
                    before_switch(name)
                tmp = self.path / f".{POINTER}.{os.getpid()}.{threading.get_ident()}"
                tmp.write_text(name + "\n")
                with open(tmp, "rb") as fh:
                    os.fsync(fh.fileno())
                os.replace(tmp, self.path / POINTER)  # the switch: readers see old or new, never none
            except BaseException:
                shutil.rmtree(directory, ignore_errors=True)
                raise
            self._drop_writer()  # writes to the old generation not committed are gone with it
            self._sync()
            for old in self.path.glob("gen-*"):
                if old.name != name and old.is_dir():
                    shutil.rmtree(old, ignore_errors=True)
            return report

    # --- reading ---------------------------------------------------------------------
    def execute(self, plan: Plan, query: SearchQuery, after: list[Any] | None) -> EngineHits:
        gen, searcher = self._searcher()
        schema = gen.schema
        text = self._translated(gen, plan.clause)
        filters = _filter_queries(plan, schema)
        main = _with_filters(text, list(filters.values()))
        if query.sort == Sort.relevance:
            if _constant_score(plan.clause):
                picked, total, before = self._by_key(gen, searcher, main, "id", query, _id_cursor(after), score=1.0)
            else:
                picked, total, before = self._by_score(searcher, main, query, _score_cursor(after))
        else:
            picked, total, before = self._by_key(
                gen, searcher, main, SORT_FIELDS[query.sort], query, _key_cursor(after)
            )
        hits = []
        for n, (score, addr, key) in enumerate(picked):
            record = Record.model_validate_json(searcher.doc(addr).get_first("record"))
            if query.sort == Sort.relevance:
                values: list[Any] = [score, record.id, before + n]
            else:
                values = [key]
            hits.append((record, score, values))
        facets = self._cached_facets(gen, searcher, plan, text, filters, query) if query.facets else {}
        return EngineHits(total=total, hits=hits, facets=facets, has_more=bool(hits) and total > before + len(hits))

    def _by_key(
        self,
        gen: _Generation,
        searcher: tantivy.Searcher,
        main: tantivy.Query,
        field: str,
        query: SearchQuery,
        after: str | None,
        score: float | None = None,
    ) -> tuple[list[tuple[float | None, Any, str]], int, int]:
        """Hits ordered by a unique text fast field: offset, or everything after a key."""
        per = query.per_page
        if after is None:
            before = query.offset
            if query.offset <= DIRECT_OFFSET:
                res = searcher.search(main, per, count=True, order_by_field=field, offset=query.offset, order=Order.Asc)
                return [(score, addr, key) for key, addr in res.hits], res.count, before
            total = searcher.search(main, 1, count=True).count
            rows = self._seek(gen, searcher, main, field, query.offset, per) if query.offset < total else []
            return [(score, addr, key) for key, addr in rows], total, before
        total = searcher.search(main, 1, count=True).count
        bound = gen.index.parse_query(f"{field}:{{{after} TO *}}")
        res = searcher.search(_with_filters(main, [bound]), per, count=True, order_by_field=field, order=Order.Asc)
        before = total - res.count  # those at or before the cursor
        return [(score, addr, key) for key, addr in res.hits], total, before

    def _seek(
        self, gen: _Generation, searcher: tantivy.Searcher, main: tantivy.Query, field: str, offset: int, per: int
    ) -> list[tuple[str, Any]]:
        """Hits [offset, offset + per) in `field` order, skipping ahead on its numeric levels:
        find the level's value at the offset, count the hits below it, keep only that value."""
        scope, remaining = main, offset
        constant = 0  # idkey columns below this are the same for every hit left in scope
        for column in LEVELS[field]:
            if remaining <= DIRECT_OFFSET:
                break
            if column in ID_KEY_FIELDS:
                level = ID_KEY_FIELDS.index(column)
                if level >= constant:
                    # Ids in scope all share the prefix of the first and the last one: skip
                    # the columns inside it (one source's ids share their first characters).
                    lo, hi = (
                        searcher.search(scope, 1, count=False, order_by_field="id", order=o).hits
                        for o in (Order.Asc, Order.Desc)
                    )
                    if not lo:
                        return []
                    constant = len(os.path.commonprefix([lo[0][0], hi[0][0]])) // ID_KEY_CHARS
                if level < constant:
                    continue
            hit = searcher.search(scope, 1, count=False, order_by_field=column, offset=remaining, order=Order.Asc).hits
            if not hit:
                return []
            value = hit[0][0]
            if value > 0:
                below = TQ.range_query(
                    gen.schema, column, tantivy.FieldType.Unsigned, upper_bound=value, include_upper=False
                )
                remaining -= searcher.search(_with_filters(scope, [below]), 1, count=True).count
            equal = TQ.range_query(gen.schema, column, tantivy.FieldType.Unsigned, lower_bound=value, upper_bound=value)
            scope = _with_filters(scope, [equal])
        rows = list(
            searcher.search(scope, per, count=False, order_by_field=field, offset=remaining, order=Order.Asc).hits
        )
        if rows and len(rows) < per:  # the page runs on past that value: continue after the last key
            bound = gen.index.parse_query(f"{field}:{{{rows[-1][0]} TO *}}")
            more = searcher.search(
                _with_filters(main, [bound]), per - len(rows), count=False, order_by_field=field, order=Order.Asc
            )
            rows += more.hits
        return rows

    def _by_score(
        self, searcher: tantivy.Searcher, main: tantivy.Query, query: SearchQuery, after: tuple[float, str, int] | None
    ) -> tuple[list[tuple[float | None, Any, str | None]], int, int]:
        """Hits by score descending, equal scores by id ascending."""
        per = query.per_page
        # The cursor's position is only a hint (the index may have changed): never past the end.
        target = query.offset if after is None else min(after[2] + 1, searcher.num_docs)
        base = max(0, target - TIE_MARGIN)
        limit = target - base + per + TIE_MARGIN
        total: int | None = None
        step = TIE_MARGIN * 4
        cursor_key = id_key(after[1]) if after is not None else None
        while True:
            res = searcher.search(main, limit, count=total is None, offset=base)
            if total is None:
                total = res.count
            hits = res.hits
            exhausted = len(hits) < limit
            if after is None and target >= total:
                return [], total, target
            # The window must begin in a group of scores above the one we start in.
            if base > 0:
                if not hits:
                    base, limit, step = 0, limit + base, step * 2
                    continue
                if after is None:
                    pivot = hits[target - base][0] if target - base < len(hits) else hits[-1][0]
                    early = hits[0][0] > pivot
                else:
                    early = hits[0][0] > after[0]
                if not early:
                    new_base = max(0, base - step)
                    limit += base - new_base
                    base, step = new_base, step * 2
                    continue
            neg = [-h[0] for h in hits]  # ascending: group bounds by bisection
            complete = len(hits) if exhausted else bisect_left(neg, neg[-1])
            # Where the page starts (index into hits), and how many of that group to skip.
            if after is None:
                i = target - base
                if i >= complete and not exhausted:
                    limit = min(limit * GROWTH, total - base + 1)
                    continue
                i = bisect_left(neg, neg[i])
                skip = target - base - i
                before = target
            else:
                i = bisect_left(neg, -after[0])  # the first hit not above the cursor's score
                skip = 0
                before = base + i
            out: list[tuple[float | None, Any, str | None]] = []
            while i < complete and len(out) < per:
                j = bisect_right(neg, neg[i])
                cursor = (cursor_key, after[1]) if after is not None and cursor_key and hits[i][0] == after[0] else None
                take = skip + per - len(out)
                picked, n_after = _in_id_order(searcher, [a for _, a in hits[i:j]], take, cursor)
                before += (j - i) - n_after
                out.extend((hits[i][0], hits[i + n][1], None) for n in picked[skip:])
                skip = 0
                i = j
            if len(out) < per and not exhausted:
                limit = min(limit * GROWTH, total - base + 1)
                continue
            return out, total, before

    def _translated(self, gen: _Generation, clause: Clause) -> tantivy.Query:
        """tantivy's Query for a clause, built once per generation (Query objects are immutable and reusable)."""
        key = (gen.directory.name, clause)
        with self._lock:
            found = self._queries.get(key)
            if found is not None:
                self._queries.move_to_end(key)
                return found
        found = _translate(clause, gen.schema)
        with self._lock:
            self._queries[key] = found
            while len(self._queries) > TRANSLATED_QUERIES:
                self._queries.popitem(last=False)
        return found

    # --- facets ----------------------------------------------------------------------
    def _cached_facets(
        self,
        gen: _Generation,
        searcher: tantivy.Searcher,
        plan: Plan,
        text: tantivy.Query,
        filters: dict[str, tantivy.Query],
        query: SearchQuery,
    ) -> dict[str, list[FacetValue]]:
        """Facets of a query without words come from the cache while the index is unchanged (facetcache.py)."""
        if not isinstance(plan.clause, MatchAll):
            return self._facets(searcher, text, filters, query)
        state = (gen.directory.name, gen.meta_sig, searcher.num_docs)
        key = facet_key(plan.filters, plan.year_from, plan.year_to, query.facets, query.facet_size)
        found = self._facet_cache.get(state, key)
        if found is None:
            found = self._facets(searcher, text, filters, query)
            self._facet_cache.put(state, key, found)
        return dict(found)

    def _facets(
        self, searcher: tantivy.Searcher, text: tantivy.Query, filters: dict[str, tantivy.Query], query: SearchQuery
    ) -> dict[str, list[FacetValue]]:
        groups: dict[str | None, list[str]] = {}
        for name in query.facets:
            groups.setdefault(name if name in filters else None, []).append(name)
        out: dict[str, list[FacetValue]] = {}
        for excluded, names in groups.items():
            scope = _with_filters(text, [f for facet, f in filters.items() if facet != excluded])
            out.update(_terms(searcher, scope, names, query.facet_size))
        return {name: out[name] for name in query.facets}

    def get(self, record_id: str) -> Record | None:
        if not isinstance(record_id, str) or not record_id:
            return None
        gen, searcher = self._searcher()
        hits = searcher.search(TQ.term_query(gen.schema, "id", record_id), 1, count=False).hits
        if not hits:
            return None
        return Record.model_validate_json(searcher.doc(hits[0][1]).get_first("record"))

    # --- change feed (fedsearch/engines/embedded_changes.py) ---------------------------
    def list_live(self, q: ChangeQuery) -> list[Change]:
        gen, searcher = self._searcher()
        return embedded_changes.list_live(gen, searcher, q)

    def count_live(self, q: ChangeQuery) -> int:
        gen, searcher = self._searcher()
        return embedded_changes.count_live(gen, searcher, q)

    def departure_log(self) -> DepartureLog:
        if self._departures is None:
            self._departures = DepartureLog(self.path.parent / DEPARTURES_FILE)
        return self._departures

    def count_by_source(self) -> dict[str, int]:
        _, searcher = self._searcher()
        agg = {"sources": {"terms": {"field": "source", "size": SOURCES_LIMIT, "segment_size": EXACT_SEGMENT_SIZE}}}
        buckets = searcher.aggregate(TQ.all_query(), agg)["sources"]["buckets"]
        return {b["key"]: b["doc_count"] for b in buckets}

    def health(self) -> EngineHealth:
        try:
            gen, searcher = self._searcher()
            newest = searcher.aggregate(TQ.all_query(), {"newest": {"max": {"field": "updated"}}})["newest"]["value"]
        except Exception as err:  # noqa: BLE001 - health reports, never raises
            return EngineHealth(
                engine=self.name, reachable=False, detail=f"cannot open the index in {self.path}: {err}"
            )
        return EngineHealth(
            engine=self.name,
            reachable=True,
            documents=searcher.num_docs,
            last_update=float(newest) if newest else None,
            detail=f"{gen.directory} ({searcher.num_segments} segments{', writer' if self.writable else ''})",
        )

    def close(self) -> None:
        """Commit what is pending, release the writer lock; the engine may be used again."""
        with self._write_lock, self._lock:
            writer, self._writer, self._writer_gen = self._writer, None, None
            try:
                if writer is not None:
                    writer.commit()
                    writer.wait_merging_threads()
            except ValueError as err:
                raise EngineError(f"could not commit to the index in {self.path}: {err}") from err
            finally:
                self._pending.clear()
                if self._lock_fd is not None:
                    os.close(self._lock_fd)
                    self._lock_fd = None
                self._gen = None
                self._pointer_sig = None


def _in_id_order(
    searcher: tantivy.Searcher, addrs: list[Any], take: int, cursor: tuple[tuple[int, ...], str] | None
) -> tuple[list[int], int]:
    """Of hits with equal scores: the indexes of the first `take` in id order after `cursor`
    (its id key and id), and how many come after the cursor.

    Ids are compared one idkey column at a time, reading a column only for the hits
    still tied on the columns before it, so a group of thousands costs one column
    read and an integer sort.
    """
    n = len(addrs)
    if n == 1 and cursor is None:
        return [0], 1
    first = [v or 0 for v in searcher.fast_field_values(ID_KEY_FIELDS[0], addrs)]
    deeper: list[dict[int, int]] = [{} for _ in ID_KEY_FIELDS]
    exact: dict[int, str] = {}

    def column(c: int, idx: list[int]) -> list[int]:
        if c == 0:
            return [first[i] for i in idx]
        known = deeper[c]
        missing = [i for i in idx if i not in known]
        if missing:
            values = searcher.fast_field_values(ID_KEY_FIELDS[c], [addrs[i] for i in missing])
            known.update(zip(missing, (v or 0 for v in values)))
        return [known[i] for i in idx]

    def stored_id(i: int) -> str:
        if i not in exact:  # an id beyond 80 characters: read it from the record
            exact[i] = json.loads(searcher.doc(addrs[i]).get_first("record"))["id"]
        return exact[i]

    def smallest(idx: list[int], c: int, k: int) -> list[int]:
        """The `k` smallest ids of `idx`, in order; they agree on the columns before `c`."""
        if len(idx) <= 1:
            return idx[:k]
        if c == len(ID_KEY_FIELDS):
            return sorted(idx, key=stored_id)[:k]
        values = column(c, idx)
        pairs = list(zip(values, idx, strict=True))
        if len(pairs) > k:
            cut = heapq.nsmallest(k, values)[-1] if k < 64 else sorted(values)[k - 1]
            pairs = [p for p in pairs if p[0] <= cut]
        pairs.sort()
        out: list[int] = []
        start = 0
        while start < len(pairs) and len(out) < k:
            stop = start + 1
            while stop < len(pairs) and pairs[stop][0] == pairs[start][0]:
                stop += 1
            same = [i for _, i in pairs[start:stop]]
            out += same if len(same) == 1 else smallest(same, c + 1, k - len(out))
            start = stop
        return out[:k]

    if cursor is None:
        after = list(range(n))
    else:
        ckey, cid = cursor
        after, undecided, c = [], list(range(n)), 0
        while undecided:
            if c == len(ID_KEY_FIELDS):
                after += [i for i in undecided if stored_id(i) > cid]
                break
            values = column(c, undecided)
            after += [i for i, v in zip(undecided, values, strict=True) if v > ckey[c]]
            undecided = [i for i, v in zip(undecided, values, strict=True) if v == ckey[c]]
            c += 1
    return smallest(after, 0, take), len(after)


class _Rejected(Exception):
    def __init__(self, record_id: str, reason: str):
        super().__init__(reason)
        self.record_id = record_id
        self.reason = reason


def _short(err: ValidationError) -> str:
    parts = [f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}" for e in err.errors()[:3]]
    more = len(err.errors()) - 3
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


# --- cursors ---------------------------------------------------------------------------


def _bad_cursor() -> InvalidCursor:
    return InvalidCursor("this cursor is not valid; start again from the first page")


def _key_cursor(after: list[Any] | None) -> str | None:
    if after is None:
        return None
    if len(after) != 1 or not isinstance(after[0], str) or not _KEY_RE.match(after[0]):
        raise _bad_cursor()
    return after[0]


def _id_cursor(after: list[Any] | None) -> str | None:
    if after is None:
        return None
    score_cursor = _score_cursor(after)
    assert score_cursor is not None
    return score_cursor[1]


def _score_cursor(after: list[Any] | None) -> tuple[float, str, int] | None:
    if after is None:
        return None
    if len(after) != 3:
        raise _bad_cursor()
    score, record_id, pos = after
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not isinstance(record_id, str):
        raise _bad_cursor()
    if not _ID_RE.match(record_id) or isinstance(pos, bool) or not isinstance(pos, int) or pos < 0:
        raise _bad_cursor()
    return float(score), record_id, pos


# --- translating a plan ----------------------------------------------------------------


def _translate(clause: Clause, schema: tantivy.Schema) -> tantivy.Query:
    if isinstance(clause, MatchAll):
        return TQ.all_query()
    if isinstance(clause, Term):
        if FIELDS.get(clause.field) == "int":
            value = _as_i64(clause.term)
            if value is None:
                return TQ.empty_query()
            q = TQ.term_query(schema, clause.field, value)
        else:
            if not clause.term:
                return TQ.empty_query()
            q = TQ.term_query(schema, clause.field, clause.term)
        return _boost(q, clause.boost)
    if isinstance(clause, Phrase):
        terms = [t for t in clause.terms if t]
        if not terms:
            return TQ.empty_query()
        if len(terms) == 1:
            q = TQ.term_query(schema, clause.field, terms[0])
        else:
            q = TQ.phrase_query(schema, clause.field, terms)
        return _boost(q, clause.boost)
    if isinstance(clause, Prefix):
        if not clause.prefix:
            return TQ.empty_query()
        return _boost(
            TQ.regex_query(schema, clause.field, _REGEX_META.sub(r"\\\1", clause.prefix) + ".*"), clause.boost
        )
    if isinstance(clause, Fuzzy):
        if not clause.term:
            return TQ.empty_query()
        return _boost(
            TQ.fuzzy_term_query(schema, clause.field, clause.term, distance=1, transposition_cost_one=True),
            clause.boost,
        )
    if isinstance(clause, Constant):
        return TQ.const_score_query(_translate(clause.clause, schema), clause.score)
    if isinstance(clause, Bool):
        if not clause.must and not clause.should:
            return TQ.empty_query()  # "at least one should" of none: nothing
        subs: list[tuple[Occur, tantivy.Query]] = []
        subs += [(Occur.Must, _translate(c, schema)) for c in clause.must]
        subs += [(Occur.Should, _translate(c, schema)) for c in clause.should]
        subs += [(Occur.MustNot, _translate(c, schema)) for c in clause.must_not]
        if len(subs) == 1:
            return subs[0][1]
        return TQ.boolean_query(subs)
    raise TypeError(f"unknown plan clause {clause!r}")


def _boost(q: tantivy.Query, boost: float) -> tantivy.Query:
    return q if boost == 1.0 else TQ.boost_query(q, boost)


def _constant_score(clause: Clause) -> bool:
    """True when every hit scores the same, so relevance order is id order."""
    if isinstance(clause, MatchAll):
        return True
    if isinstance(clause, Bool):
        return not clause.should and bool(clause.must) and all(_constant_score(c) for c in clause.must)
    return False


def _as_i64(value: str) -> int | None:
    try:
        n = int(str(value).strip())
    except ValueError:
        return None
    return n if _I64_MIN <= n <= _I64_MAX else None


def _filter_queries(plan: Plan, schema: tantivy.Schema) -> dict[str, tantivy.Query]:
    """Facet name -> its filter (OR within it). The year range belongs to `year`."""
    out: dict[str, tantivy.Query] = {}
    for name, values in plan.filters.items():
        if not values:
            continue
        if FIELDS.get(name) == "int":
            numbers = sorted({n for v in values if (n := _as_i64(v)) is not None})
            out[name] = TQ.term_set_query(schema, name, numbers) if numbers else TQ.empty_query()
        else:
            out[name] = TQ.term_set_query(schema, name, list(values))
    if plan.year_from is not None or plan.year_to is not None:
        rng = TQ.range_query(
            schema, "year", tantivy.FieldType.Integer, lower_bound=plan.year_from, upper_bound=plan.year_to
        )
        out["year"] = TQ.boolean_query([(Occur.Must, out["year"]), (Occur.Must, rng)]) if "year" in out else rng
    return out


def _with_filters(q: tantivy.Query, filters: list[tantivy.Query]) -> tantivy.Query:
    """`q` restricted by `filters`, which add nothing to the score."""
    if not filters:
        return q
    return TQ.boolean_query([(Occur.Must, q)] + [(Occur.Must, TQ.const_score_query(f, 0.0)) for f in filters])


def _terms(
    searcher: tantivy.Searcher, scope: tantivy.Query, names: list[str], size: int
) -> dict[str, list[FacetValue]]:
    """Exact top `size` buckets per field: count descending, then value ascending.

    Every segment counts all its values (no per-segment cut, so counts are exact, as
    on a one-shard Elasticsearch index); tantivy returns the top `ask` buckets. If
    the bucket after the last one we keep has the same count, values tied with it may
    have been left out (tantivy doesn't order ties by value): ask for more.
    """
    out: dict[str, list[FacetValue]] = {}
    want = {name: size + 1 for name in names}
    while want:
        aggs = {
            name: {"terms": {"field": name, "size": ask, "segment_size": EXACT_SEGMENT_SIZE}}
            for name, ask in want.items()
        }
        result = searcher.aggregate(scope, aggs)
        again: dict[str, int] = {}
        for name, ask in want.items():
            buckets = result[name]["buckets"]
            if len(buckets) >= ask and buckets[ask - 1]["doc_count"] == buckets[size - 1]["doc_count"]:
                again[name] = ask * 4
                continue
            values = sorted(
                ((_bucket_value(name, b["key"]), b["doc_count"]) for b in buckets), key=lambda kv: (-kv[1], kv[0])
            )
            out[name] = [FacetValue(value=v, count=c) for v, c in values[:size]]
        want = again
    return out
