"""The embedded index on disk: generations, the pointer to the live one, the writer lock, the schema.

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
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import threading
import time
from pathlib import Path

import tantivy

from fedsearch.engines.base import EngineError
from fedsearch.engines.document import FIELDS
from fedsearch.engines.embedded.keys import COARSE_FIELDS, ID_KEY_FIELDS, SORT_FIELDS

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


def terms_analyzer() -> tantivy.TextAnalyzer:
    return tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build()


class Generation:
    """One opened index directory."""

    def __init__(self, directory: Path, index: tantivy.Index):
        self.directory = directory
        self.index = index
        self.schema = index.schema
        self.meta_sig: tuple[int, int, int] | None = None


def signature(path: Path) -> tuple[int, int, int] | None:
    """What changes when a file is replaced or rewritten; None when it is missing."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def create_generation(path: Path, schema: tantivy.Schema) -> tuple[str, tantivy.Index]:
    name = f"gen-{time.time_ns():x}-{os.getpid()}"
    directory = path / name
    directory.mkdir(parents=True)
    index = tantivy.Index(schema, str(directory), reuse=False)
    index.register_tokenizer(TERMS_TOKENIZER, terms_analyzer())
    (directory / META_FILE).write_text(json.dumps({"schema_version": SCHEMA_VERSION}))
    return name, index


def open_generation(path: Path, name: str) -> Generation:
    directory = path / name
    meta = json.loads((directory / META_FILE).read_text())
    if meta.get("schema_version") != SCHEMA_VERSION:
        raise EngineError(
            f"the index in {directory} was built by another version of fedsearch "
            f"(schema {meta.get('schema_version')}, this one reads {SCHEMA_VERSION}); run `fedsearch reindex`"
        )
    index = tantivy.Index.open(str(directory))
    index.register_tokenizer(TERMS_TOKENIZER, terms_analyzer())
    index.config_reader("Manual")
    return Generation(directory, index)


def live_generation(path: Path) -> str:
    """The name the pointer holds; "" before the first index."""
    try:
        return (path / POINTER).read_text().strip()
    except FileNotFoundError:
        return ""


def _pointer_draft(path: Path, name: str) -> Path:
    tmp = path / f".{POINTER}.{os.getpid()}.{threading.get_ident()}"
    tmp.write_text(name + "\n")
    return tmp


def point_first(path: Path, name: str) -> bool:
    """Make `name` the first live generation; False (and nothing changed) if another process got there first."""
    tmp = _pointer_draft(path, name)
    try:
        os.link(tmp, path / POINTER)  # fails if another process got there first
        return True
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)


def switch_to(path: Path, name: str) -> None:
    """Point at generation `name`: readers see the old one or the new one, never none."""
    tmp = _pointer_draft(path, name)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path / POINTER)


def remove_generations(path: Path, keep: str) -> None:
    """Delete every generation directory but `keep`."""
    for old in path.glob("gen-*"):
        if old.name != keep and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)


def take_writer_lock(path: Path) -> int:
    """Hold `writer.lock` (flock) for this process; the descriptor stays open while we write."""
    path.mkdir(parents=True, exist_ok=True)
    fd = os.open(path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as err:
        os.close(fd)
        if err.errno in (errno.EWOULDBLOCK, errno.EACCES):
            raise EngineError(
                f"another process is writing to the index in {path}; only one writer at a time "
                "(stop the other harvest or reindex first)"
            ) from None
        raise
    return fd
