"""What every benchmark shares: work directories, the corpus, configurations, child processes, statistics.

Benchmarks write big files under $FEDSEARCH_BENCH_DIR (default /tmp/fedsearch-bench),
results as JSON under bench/results/, and their tables into docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import platform
import re
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
WORK = Path(os.environ.get("FEDSEARCH_BENCH_DIR", "/tmp/fedsearch-bench"))
PYTHON = sys.executable
ES_URL = os.environ.get("FEDSEARCH_BENCH_ES_URL", "http://127.0.0.1:9200")
SEED = 20251
ENGINES = ("embedded", "elasticsearch")


def progress(message: str) -> None:
    """Benchmarks talk on stderr, with the time, so a long run shows it is alive."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    except (OSError, AttributeError):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "load_avg": [round(x, 2) for x in os.getloadavg()],
    }


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("tantivy", "elasticsearch", "fastapi", "uvicorn", "pyoai"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "-"
    try:
        import httpx

        out["elasticsearch-server"] = httpx.get(ES_URL, timeout=3).json()["version"]["number"]
    except Exception:
        out["elasticsearch-server"] = "-"
    return out


# --- statistics ------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary_ms(latencies_s: list[float]) -> dict[str, float]:
    ms = [x * 1000 for x in latencies_s]
    return {
        "n": len(ms),
        "p50": percentile(ms, 50),
        "p95": percentile(ms, 95),
        "p99": percentile(ms, 99),
        "mean": statistics.fmean(ms) if ms else float("nan"),
    }


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# --- the corpus ----------------------------------------------------------------------


def corpus_dir(size: int) -> Path:
    return WORK / f"corpus-{size}"


def ensure_corpus(size: int) -> tuple[Path, dict[str, Any]]:
    from fedsearch_app.corpus import is_current, load_manifest

    out = corpus_dir(size)
    manifest = load_manifest(out)
    if is_current(manifest, size, SEED):
        return out, manifest
    progress(f"writing a {size:,}-record corpus into {out} (in a child process, to measure its memory)")
    result = run_child(
        "bench.children", "corpus", "--size", str(size), "--out", str(out), "--seed", str(SEED), timeout=3600
    )
    progress(f"  {size:,} records in {result['seconds']:.1f}s, peak RSS {result['peak_rss_mib']:.0f} MiB")
    save_result(
        f"corpus-{size}",
        {
            "command": f"python -m bench.run corpus --size {size}",
            "size": size,
            "seconds": result["seconds"],
            "peak_rss_mib": result["peak_rss_mib"],
            "records_by_partner": result["manifest"]["records_by_partner"],
            "duplicate_pairs": result["manifest"]["duplicate_pairs"],
        },
    )
    return out, result["manifest"]


# --- configurations --------------------------------------------------------------------


def settings_dict(data_dir: Path, engine: str, sources: list[dict[str, Any]], index_prefix: str) -> dict[str, Any]:
    return {
        "engine": engine,
        "data_dir": str(data_dir),
        "elasticsearch": {"hosts": [ES_URL], "index_prefix": index_prefix, "request_timeout": 120},
        # The benchmark is the only client; rate limiting would measure itself.
        "server": {"host": "127.0.0.1", "port": 8000, "rate_limit_per_minute": 100_000_000, "secure_cookies": False},
        "harvest": {"delay_seconds": 0, "timeout_seconds": 120, "max_retries": 2},
        "sources": sources,
    }


def write_settings(path: Path, data: dict[str, Any]):
    from fedsearch.config import validate_settings

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return validate_settings(data, path)


def drop_es_indices(prefix: str) -> list[str]:
    """Delete the indices (and template) a benchmark made under `prefix`, by name: the node refuses wildcard deletes."""
    import httpx

    resp = httpx.get(f"{ES_URL}/_cat/indices/{prefix}-*", params={"h": "index", "format": "json"}, timeout=30)
    names = [row["index"] for row in resp.json()] if resp.status_code == 200 else []
    for name in names:
        httpx.delete(f"{ES_URL}/{name}", timeout=120).raise_for_status()
    httpx.delete(f"{ES_URL}/_index_template/{prefix}-template", timeout=30)
    return names


# --- processes -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mib(pid: int | None = None) -> float | None:
    """VmHWM (peak resident set) of a live process, or of this one."""
    try:
        text = Path(f"/proc/{pid or 'self'}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+)", text).group(1)) / 1024
    except (OSError, AttributeError):
        return None


def self_peak_rss_mib() -> float:
    """This process's peak RSS, plus that of the worker processes it ran (the largest one's peak times
    their number: an upper bound, as they need not peak together)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if workers:
        from indexers.parallel import worker_count

        own += workers * max(1, worker_count())
    return own


def run_child(module: str, *args: str, timeout: float, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run `python -m module args`; its stderr streams through (progress), its last stdout line is JSON."""
    cmd = [PYTHON, "-m", module, *args]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=None, text=True, env={**os.environ, **(env or {})}
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise TimeoutError(f"{module} {' '.join(args)} took more than {timeout:.0f}s; stopped") from None
    if proc.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args)} failed with exit code {proc.returncode}")
    lines = [line for line in out.splitlines() if line.strip()]
    return json.loads(lines[-1])


class Background:
    """A child process that prints one JSON line when ready (its stdout), then runs until stopped."""

    def __init__(self, module: str, *args: str, ready_timeout: float = 600):
        self.proc = subprocess.Popen(
            [PYTHON, "-m", module, *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=None,
            text=True,
            start_new_session=True,
        )
        self.info: dict[str, Any] = {}
        line: list[str] = []

        def read() -> None:
            line.append(self.proc.stdout.readline())

        t = threading.Thread(target=read, daemon=True)
        t.start()
        try:
            t.join(ready_timeout)
        except BaseException:  # Ctrl-C while it starts: don't leave it running
            self.stop()
            raise
        if not line or not line[0].strip():
            self.stop()
            raise RuntimeError(f"{module} did not start within {ready_timeout:.0f}s")
        self.info = json.loads(line[0])
        # Keep reading: a child that logs to stdout (uvicorn's access log does) would block on a full pipe.
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        for _ in self.proc.stdout:
            pass

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(2)  # SIGINT: a clean stop
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


@contextmanager
def background(module: str, *args: str, ready_timeout: float = 600) -> Iterator[Background]:
    bg = Background(module, *args, ready_timeout=ready_timeout)
    try:
        yield bg
    finally:
        bg.stop()


# --- results ---------------------------------------------------------------------------


def save_result(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    data = {"name": name, "measured_at": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": machine(), **data}
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    progress(f"saved {path.relative_to(ROOT)}")
    return path


def load_results(prefix: str) -> list[dict[str, Any]]:
    if not RESULTS.is_dir():
        return []
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(RESULTS.glob(f"{prefix}*.json"))]


def command_line() -> str:
    return "python -m " + " ".join(["bench.run"] + sys.argv[1:])
