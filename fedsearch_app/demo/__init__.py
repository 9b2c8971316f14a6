"""`fedsearch demo`: sample partners on 127.0.0.1, harvested into the engine, served.

    fedsearch demo [--data-dir ./demo-data] [--port 8000] [--engine embedded]

1. Writes a sample corpus (fedsearch_app/corpus, fixed seed; FEDSEARCH_DEMO_SIZE
   records, 3000 by default) into DATA_DIR/partners, unless the same one is there.
2. Starts the partners (fedsearch_app/demo/partners.py): an OAI-PMH repository
   (pyoai), an SRU catalogue (Zebra's zebrasrv; left out with a message when
   idzebra-2.0 is not installed), a CSV dissertation register and a JSON Lines
   patent register over HTTP.
3. Writes DATA_DIR/fedsearch.yaml for them and harvests (indexers.pipeline):
   in full when the corpus was just written; otherwise only what changed.
4. Serves the web UI and the API (fedsearch_app.app.serve) on --port and prints
   the URL. Ctrl-C (or SIGTERM) stops the server and every partner.
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import socket
import sys
import time
import webbrowser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from fedsearch.config import Settings
from fedsearch_app.settings import validate

DEFAULT_SIZE = 3000
SIZE_ENV = "FEDSEARCH_DEMO_SIZE"
SEED = 20251
CONFIG_NAME = "fedsearch.yaml"


def say(message: str = "") -> None:
    print(message, flush=True)


def demo_size() -> int:
    raw = os.environ.get(SIZE_ENV, "").strip()
    if not raw:
        return DEFAULT_SIZE
    try:
        size = int(raw)
    except ValueError:
        raise SystemExit(f"fedsearch demo: {SIZE_ENV} must be a whole number of records, not {raw!r}") from None
    if not 20 <= size <= 2_000_000:
        raise SystemExit(f"fedsearch demo: {SIZE_ENV} must be between 20 and 2000000 (got {size})")
    return size


def ensure_corpus(corpus_dir: Path, size: int, seed: int = SEED) -> tuple[dict[str, Any], bool]:
    """The sample corpus in `corpus_dir`: reused when it is the same size and seed; True if written now."""
    from fedsearch_app.corpus import generate, is_current, load_manifest

    manifest = load_manifest(corpus_dir)
    if is_current(manifest, size, seed):
        return manifest, False
    return generate(corpus_dir, size, seed=seed), True


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def previous_ports(config_path: Path) -> dict[str, int]:
    """Partner ports of the last run, so the configuration stays the same when they are free."""
    from fedsearch_app.corpus import SOURCE_IDS

    if not config_path.exists():
        return {}
    try:
        data = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}
    by_id = {v: k for k, v in SOURCE_IDS.items()}
    out: dict[str, int] = {}
    for source in data.get("sources") or []:
        key = by_id.get(source.get("id"))
        where = source.get("url") or source.get("path") or ""
        port = urlsplit(where).port if "://" in where else None
        if key and port:
            out[key] = port
    return out


def write_config(data_dir: Path, sources: list[dict[str, Any]], engine: str, port: int) -> Settings:
    config = {
        "engine": engine,
        "data_dir": str(data_dir),
        "elasticsearch": {
            "hosts": [os.environ.get("FEDSEARCH_DEMO_ES_URL", "http://127.0.0.1:9200")],
            # One index per data directory: another demo's records never show up here.
            "index_prefix": "fedsearch-demo-" + hashlib.sha1(str(data_dir).encode()).hexdigest()[:8],
        },
        "server": {"host": "127.0.0.1", "port": port, "secure_cookies": False},
        # The partners are on this machine: no pause between requests.
        "harvest": {"delay_seconds": 0, "timeout_seconds": 60, "max_retries": 2},
        "sources": sources,
    }
    path = data_dir / CONFIG_NAME
    header = (
        "# Written by `fedsearch demo` for its sample partners on 127.0.0.1; rewritten at every run.\n"
        f"# Use it with: fedsearch --config {path} sources | harvest | serve\n"
    )
    path.write_text(header + yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return validate(config, path)


class _Stop(BaseException):
    """SIGTERM: unwind like Ctrl-C so every partner is stopped.

    A BaseException, like KeyboardInterrupt: the harvest runner must not take it for a
    connector's error and go on with the next source; it stores the page in hand, marks the
    run stopped and lets it through."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise _Stop()


def run_demo(
    data_dir: str | os.PathLike[str], port: int = 8000, open_browser: bool = False, engine: str = "embedded"
) -> int:
    from fedsearch_app.demo.partners import SamplePartners

    data_dir = Path(data_dir).expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    if not _port_free(port):
        say(f"fedsearch demo: port {port} on 127.0.0.1 is in use; choose another with --port")
        return 1
    size = demo_size()
    # One line per partner request drowns the progress lines; warnings still show.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))
    old_term = signal.signal(signal.SIGTERM, _on_sigterm) if _main_thread() else None
    partners = None
    started = time.perf_counter()
    try:
        say(f"fedsearch demo: data in {data_dir}")
        manifest, fresh = ensure_corpus(data_dir / "partners", size)
        counts = manifest["records_by_partner"]
        say(
            f"  sample corpus: {manifest['records']} records (seed {manifest['seed']})"
            + (" written" if fresh else " reused")
            + f"; {manifest['duplicate_pairs']} works held twice"
        )
        partners = SamplePartners(
            data_dir / "partners", data_dir / "partners", ports=previous_ports(data_dir / CONFIG_NAME), say=say
        )
        partners.start()
        say("partners:")
        for p in partners.running():
            say(f"  {p.source_id:<20} {p.protocol:<22} {p.url}  ({counts[p.key]} records)")
        for why in partners.missing.values():
            say(f"  NOTE: {why}")
        settings = write_config(data_dir, partners.sources(), engine, port)
        say(f"configuration: {settings.config_path}")
        say(
            f"an account for {f'http://127.0.0.1:{port}/admin'}: fedsearch --config {settings.config_path} admin create-user NAME --role admin"
        )

        from indexers.pipeline import harvest

        say(f"harvesting into the {engine} engine...")
        t = time.perf_counter()
        # A corpus written now may replace an older one whose records carry the same
        # datestamps: only a full harvest is sure to see every change.
        code = harvest(settings, source_ids=None, full=fresh)
        say(f"harvest finished in {time.perf_counter() - t:.1f}s" + (f" (exit code {code})" if code else ""))

        url = f"http://127.0.0.1:{port}/"
        say(
            f"fedsearch demo is ready ({time.perf_counter() - started:.1f}s): open {url}  (API: {url}api/v1/search?q=)  Ctrl-C stops"
        )
        if open_browser:
            webbrowser.open(url)
        from fedsearch_app.app import serve

        return serve(settings, host="127.0.0.1", port=port, workers=1)  # the demo's partners live in this process
    except (KeyboardInterrupt, _Stop):
        say("\nfedsearch demo: stopping")
        return 0
    finally:
        if partners is not None:
            partners.stop()
            say("fedsearch demo: partners stopped")
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


__all__ = ["run_demo", "ensure_corpus", "write_config", "DEFAULT_SIZE", "SIZE_ENV"]

if __name__ == "__main__":  # python -m fedsearch_app.demo
    sys.exit(run_demo("./demo-data"))
