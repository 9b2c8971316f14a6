"""`fedsearch backup DIR` and `fedsearch restore DIR`: a consistent copy of a data directory, taken online.

What is copied:

* every SQLite database at the top of data_dir (the raw store, the index
  state, the admin's accounts and sources): through SQLite's backup API, so
  each is a consistent snapshot even while a harvest or the server writes;
* the embedded index: the live generation's last commit (its meta.json and
  the segment files it names; segment files never change once written, and a
  writer's merge can delete one meanwhile, so the copy starts again if one vanishes);
* `secret_key` (signs admin sessions), when there is one.

A manifest (backup.json) lists what was copied. With Elasticsearch the index is
not copied: restore the data, then `fedsearch reindex` rebuilds it from the raw store.

`restore` copies a backup into a data directory that holds none of these
files yet (it refuses to overwrite), so a mistaken restore loses nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from fedsearch.config import Settings
from fedsearch.errors import FedsearchError

MANIFEST = "backup.json"
INDEX = "index"
POINTER = "CURRENT"  # fedsearch/engines/embedded/layout.py: the live generation's name
SECRET = "secret_key"  # noqa: S105 - a file name
SQLITE_SUFFIXES = (".sqlite3", ".sqlite", ".db")
FORMAT = 1


class BackupError(FedsearchError):
    """A backup or restore that can't be done; the message says what and where."""

    error_code = "backup.failed"


@dataclass
class Manifest:
    created_at: str
    engine: str
    databases: list[str] = field(default_factory=list)
    index_generation: str | None = None
    index_files: list[str] = field(default_factory=list)
    secret_key: bool = False
    format: int = FORMAT


def _databases(data_dir: Path) -> list[Path]:
    return sorted(p for p in data_dir.iterdir() if p.is_file() and p.suffix in SQLITE_SUFFIXES)


def _copy_database(source: Path, target: Path) -> None:
    src = sqlite3.connect(source, timeout=60)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)  # a consistent snapshot, whatever writers do meanwhile
    finally:
        dst.close()
        src.close()


def _segment_files(generation: Path, meta: bytes) -> list[str]:
    """The files of the segments this commit (meta.json) names: <segment id without dashes>.<ext>."""
    ids = {s["segment_id"].replace("-", "") for s in json.loads(meta)["segments"]}
    return sorted(p.name for p in generation.iterdir() if p.name.split(".", 1)[0] in ids)


def _copy_index(index: Path, target: Path, attempts: int = 20) -> tuple[str, list[str]]:
    """The live generation's last commit, copied into target/<generation>; retried when a writer moves on."""
    for attempt in range(attempts):
        name = (index / POINTER).read_text().strip()
        generation = index / name
        out = target / name
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        try:
            meta = (generation / "meta.json").read_bytes()
            (out / "meta.json").write_bytes(meta)
            names = _segment_files(generation, meta)
            for file in ["fedsearch.json", *names]:
                shutil.copy2(generation / file, out / file)
            if (generation / "meta.json").read_bytes() != meta and attempt < attempts - 1:
                continue  # a commit happened while we copied: copy the newer one
        except FileNotFoundError:  # a merge removed a segment, or a rebuild switched generations
            time.sleep(0.05 * (attempt + 1))
            continue
        (target / POINTER).write_text(name + "\n")
        return name, ["fedsearch.json", "meta.json", *names]
    raise BackupError(f"the index in {index} kept changing while it was copied; try again when no reindex runs")


def backup(settings: Settings, target: Path) -> Manifest:
    data_dir = Path(settings.data_dir)
    if not data_dir.is_dir():
        raise BackupError(f"the data directory {data_dir} does not exist")
    target = Path(target)
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty; back up into a new directory")
    target.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(created_at=datetime.now(UTC).isoformat(timespec="seconds"), engine=settings.engine)
    for db in _databases(data_dir):
        _copy_database(db, target / db.name)
        manifest.databases.append(db.name)
    if settings.engine == "embedded" and (data_dir / INDEX / POINTER).exists():
        manifest.index_generation, manifest.index_files = _copy_index(data_dir / INDEX, target / INDEX)
    if (data_dir / SECRET).exists():
        shutil.copy2(data_dir / SECRET, target / SECRET)
        os.chmod(target / SECRET, 0o600)
        manifest.secret_key = True
    (target / MANIFEST).write_text(json.dumps(manifest.__dict__, indent=2) + "\n")
    return manifest


def restore(settings: Settings, source: Path) -> Manifest:
    source = Path(source)
    try:
        manifest = Manifest(**json.loads((source / MANIFEST).read_text()))
    except (OSError, ValueError, TypeError) as err:
        raise BackupError(f"{source} is not a fedsearch backup (no readable {MANIFEST}: {err})") from None
    data_dir = Path(settings.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    present = [name for name in [*manifest.databases, INDEX, SECRET] if (data_dir / name).exists()]
    if present:
        raise BackupError(
            f"{data_dir} already holds {', '.join(present)}; restore into a fresh data directory "
            "(or move those away first)"
        )
    for name in manifest.databases:
        _copy_database(source / name, data_dir / name)
    if manifest.index_generation:
        if settings.engine != "embedded":
            print(
                f"note: the backup holds an embedded index; engine is {settings.engine}: run `fedsearch reindex`",
                file=sys.stderr,
            )
        else:
            gen = data_dir / INDEX / manifest.index_generation
            shutil.copytree(source / INDEX / manifest.index_generation, gen)
            (data_dir / INDEX / POINTER).write_text(manifest.index_generation + "\n")
    if manifest.secret_key:
        shutil.copy2(source / SECRET, data_dir / SECRET)
        os.chmod(data_dir / SECRET, 0o600)
    return manifest


def backup_cli(settings: Settings, target: str) -> int:
    try:
        m = backup(settings, Path(target))
    except (BackupError, sqlite3.Error, OSError) as err:
        print(f"fedsearch backup: {err}", file=sys.stderr)
        return 1
    index = f", index {m.index_generation} ({len(m.index_files)} files)" if m.index_generation else ""
    print(f"backed up {settings.data_dir} to {target}: {', '.join(m.databases) or 'no databases'}{index}")
    return 0


def restore_cli(settings: Settings, source: str) -> int:
    try:
        m = restore(settings, Path(source))
    except (BackupError, sqlite3.Error, OSError) as err:
        print(f"fedsearch restore: {err}", file=sys.stderr)
        return 1
    print(f"restored {source} (taken {m.created_at}) into {settings.data_dir}")
    return 0
