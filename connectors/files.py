"""Where file connectors read from: a path, a glob, or an http(s) URL (downloaded politely)."""

from __future__ import annotations

import glob
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from connectors.base import HarvestFailed
from connectors.http import PoliteClient
from fedsearch.config import HarvestPolicy


@dataclass
class InputFile:
    name: str  # as people know it: the path or the URL
    path: Path  # where to read it now


def is_url(spec: str) -> bool:
    return spec.startswith(("http://", "https://"))


@contextmanager
def input_files(spec: str, *, source: str, policy: HarvestPolicy,
                stop: threading.Event | None = None) -> Iterator[list[InputFile]]:
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
    expanded = os.path.expanduser(spec)
    if glob.has_magic(expanded):
        paths = sorted(p for p in glob.glob(expanded, recursive=True) if os.path.isfile(p))
        if not paths:
            raise HarvestFailed(source, f"no file matches {spec!r} (relative paths start at {os.getcwd()})")
    else:
        if not os.path.isfile(expanded):
            raise HarvestFailed(source, f"the file {spec!r} does not exist (relative paths start at {os.getcwd()})")
        paths = [expanded]
    yield [InputFile(name=p, path=Path(p)) for p in paths]
