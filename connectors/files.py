"""Where file connectors read from: a path, a glob, or an http(s) URL (downloaded politely)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors import reach
from connectors.base import Checkpoint, Connector, HarvestFailed, HarvestItem
from connectors.http import PoliteClient
from fedsearch.config import HarvestPolicy

CHECKPOINT_EVERY = 500  # items of a file between two checkpoints


@dataclass
class InputFile:
    name: str  # as people know it: the path or the URL
    path: Path  # where to read it now


def is_url(spec: str) -> bool:
    return spec.startswith(("http://", "https://"))


@contextmanager
def input_files(
    spec: str, *, source: str, policy: HarvestPolicy, stop: threading.Event | None = None
) -> Iterator[list[InputFile]]:
    """The files `spec` names, sorted; a URL is downloaded to a temporary file for the duration."""
    if is_url(spec):
        with PoliteClient(source, policy, stop=stop) as http:
            suffix = Path(spec.split("?", 1)[0]).suffix
            tmp = http.download(spec, what="the file download", suffix=suffix)
        try:
            yield [InputFile(name=spec, path=tmp)]
        finally:
            tmp.unlink(missing_ok=True)
        return
    try:  # only files in the import folders, checked before anything is read (connectors/reach.py)
        paths = reach.resolve_files(spec, policy.reach)
    except reach.ReachRefused as err:
        raise HarvestFailed(source, str(err)) from None
    if isinstance(paths, str):
        raise HarvestFailed(source, paths)
    yield [InputFile(name=str(p), path=p) for p in paths]


def harvest_files(
    connector: Connector,
    path: str,
    checkpoint: dict[str, Any] | None,
    read: Callable[[InputFile], Iterator[HarvestItem]],
) -> Iterator[HarvestItem]:
    """Every item of every file `path` names, with a checkpoint every CHECKPOINT_EVERY items and after each file.

    A resumed harvest skips the files and items before the checkpoint (they are read, not yielded,
    so `read` can still see them, e.g. to notice duplicate ids).
    """
    skip_file = int((checkpoint or {}).get("file_index", 0))
    skip_items = int((checkpoint or {}).get("item_index", 0))
    with input_files(path, source=connector.source.id, policy=connector.policy, stop=connector.stop) as files:
        for index, file in enumerate(files):
            if index < skip_file:
                continue
            done = skip_items if index == skip_file else 0
            for count, item in enumerate(read(file), 1):
                if count <= done:
                    continue
                yield item
                if count % CHECKPOINT_EVERY == 0:
                    yield Checkpoint({"file_index": index, "file": file.name, "item_index": count})
            yield Checkpoint({"file_index": index + 1, "item_index": 0})
