"""kill -9 `fedsearch harvest` and `fedsearch reindex` at random moments; the next plain harvest converges.

Real processes of the installed `fedsearch` command, a real configuration and
data directory, three real partners: the demo's OAI-PMH repository (pyoai over
HTTP), a MARCXML catalogue file and a CSV register. Before each trial the files
change (records withdrawn, brought back, retitled), so runs add, change, merge,
split and delete works. Each trial starts a command, kills it (SIGKILL) after a
random number of its progress lines plus a random pause, and checks:

- right after the kill: every raw record the raw store counts as indexed is in
  the engine as it is now (deleted ones are not), every work the state's
  journal does not list is in the engine exactly as the state merges it, and
  `fedsearch sources` shows the raw store's count of records waiting;
- after one plain `fedsearch harvest` (no reindex): nothing waits, the journal
  is empty, the engine holds exactly the state's works, each exactly as the
  state merges it, and the state holds exactly the raw store's live records,
  each as normalizing its current payload gives.

Indexing batches are small (FEDSEARCH_INDEX_BATCH) so kills land mid-indexing.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from connectors.base import RawRecord
from fedsearch.config import load_config
from fedsearch.engines import SearchQuery, open_engine
from fedsearch.record import Record, make_record_id
from fedsearch_app.corpus import FILES, generate
from fedsearch_app.corpus.works import CSV, OAI, SRU
from fedsearch_app.demo.oai import OaiPmhPartner
from fedsearch_app.demo.partners import source_options
from indexers.dedup import merge
from indexers.normalize import NormalizationError, normalize

SEED = 20261207
CORPUS_SIZE = 1200  # ~570 OAI records, ~370 catalogue records, ~140 dissertations
BATCHES = {"harvest": "15", "reindex": "300"}  # raw records per batch: a harvest commits once per batch
# A kill comes after 0..N progress lines (pages harvested, batches read or written) and a pause:
# about the lines one run prints, so kills spread over the whole run.
MAX_LINES = {"harvest": 20, "reindex": 9}
FEDSEARCH = Path(sys.executable).with_name("fedsearch")
KINDS = ["harvest", "harvest", "harvest", "harvest --full", "reindex", "reindex"]

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    generate(out, CORPUS_SIZE, seed=SEED)
    return out


@pytest.fixture(scope="module")
def repository(corpus: Path):
    partner = OaiPmhPartner(corpus / FILES[OAI]).start()
    yield partner
    partner.stop()


class Exports:
    """The catalogue and register files, changed a little before each trial."""

    def __init__(self, corpus: Path, directory: Path):
        directory.mkdir(parents=True)
        self.files = {"cat": directory / "catalogue.marcxml", "diss": directory / "register.csv"}
        marc = (corpus / FILES[SRU]).read_text(encoding="utf-8").splitlines(keepends=True)
        diss = (corpus / FILES[CSV]).read_text(encoding="utf-8").splitlines(keepends=True)
        # (head, records, tail): one record per line in both files.
        self.parts = {
            "cat": (
                marc[:2],
                [ln for ln in marc[2:] if ln.startswith("<record")],
                [ln for ln in marc[2:] if not ln.startswith("<record")],
            ),
            "diss": (diss[:1], diss[1:], []),
        }
        self.absent: dict[str, set[int]] = {"cat": set(), "diss": set()}
        self.edited: dict[str, set[int]] = {"cat": set(), "diss": set()}
        self.write()

    def change(self, rng: random.Random, rate: float) -> None:
        """Withdraw or retitle about `rate` of the records; bring back or restore about half the others."""
        for key, (_, records, _) in self.parts.items():
            for i in range(len(records)):
                for changed in (self.absent[key], self.edited[key]):
                    if rng.random() < (0.5 if i in changed else rate):
                        changed ^= {i}
        self.write()

    def write(self) -> None:
        for key, (head, records, tail) in self.parts.items():
            lines = [
                _edit(key, ln) if i in self.edited[key] else ln
                for i, ln in enumerate(records)
                if i not in self.absent[key]
            ]
            self.files[key].write_text("".join(head + lines + tail), encoding="utf-8")


def _edit(key: str, line: str) -> str:
    """The same record, retitled."""
    if key == "cat":
        at = line.index('<datafield tag="245"')
        at = line.index('<subfield code="a">', at) + len('<subfield code="a">')
        return line[:at] + "Исправленное издание: " + line[at:]
    row = next(csv.reader([line]))
    row[1] = "Исправлено: " + row[1]  # the title column
    out = io.StringIO()
    csv.writer(out).writerow(row)
    return out.getvalue().replace("\r\n", "\n")


@dataclass
class Deployment:
    root: Path
    config: Path
    settings: object
    exports: Exports
    env: dict[str, str]
    normalized: dict[tuple[str, str, str], Record | None] = field(default_factory=dict)
    kills_mid_run: int = 0

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(FEDSEARCH), "--config", str(self.config), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def make_deployment(root: Path, corpus: Path, repository: OaiPmhPartner, engine: str, es_config=None) -> Deployment:
    exports = Exports(corpus, root / "exports")
    sources = [
        {"id": "repo", **source_options(OAI, repository.url)},
        {"id": "cat", "connector": "marc-file", "path": str(exports.files["cat"])},
        {"id": "diss", **source_options(CSV, str(exports.files["diss"])), "path": str(exports.files["diss"])},
    ]
    # The partners are local (reach opt-in), and trials withdraw records past the deletion brake on purpose.
    config = {
        "engine": engine,
        "data_dir": str(root / "data"),
        "sources": sources,
        "harvest": {"delay_seconds": 0, "sweep_max_share": 1.0},
        "reach": {"import_dirs": [str(root / "exports")], "allow_private_networks": True},
    }
    if es_config is not None:
        config["elasticsearch"] = {"hosts": es_config.hosts, "index_prefix": es_config.index_prefix}
    path = root / "fedsearch.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    env = {**os.environ, "FEDSEARCH_INDEX_BATCH": BATCHES["harvest"], "FEDSEARCH_SCHEDULER": "off"}
    return Deployment(root=root, config=path, settings=load_config(path), exports=exports, env=env)


# --- reading what each store holds ----------------------------------------------------------


def raw_rows(dep: Deployment) -> list[sqlite3.Row]:
    path = dep.root / "data" / "raw.sqlite3"
    if not path.exists():
        return []  # killed before storing anything
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(
            "SELECT source, local_id, format, payload, content_hash, datestamp, deleted, sets, "
            "indexed_hash FROM records"
        ).fetchall()
    finally:
        conn.close()


def current(dep: Deployment, row: sqlite3.Row) -> Record | None:
    """The record as normalizing its stored payload gives it now (None: deleted or unusable)."""
    if row["deleted"]:
        return None
    key = (row["source"], row["local_id"], row["content_hash"])
    if key not in dep.normalized:
        raw = RawRecord(
            local_id=row["local_id"],
            format=row["format"],
            payload=bytes(row["payload"]),
            datestamp=row["datestamp"],
            deleted=False,
            sets=json.loads(row["sets"]),
        )
        try:
            dep.normalized[key] = normalize(raw, dep.settings.source(row["source"]))
        except NormalizationError:
            dep.normalized[key] = None
    return dep.normalized[key]


def state_tables(dep: Deployment) -> tuple[dict[str, tuple[str, Record]], set[str], set[str]]:
    """record id -> (cluster, record); the journal; the tables present."""
    path = dep.root / "data" / "index-state.sqlite"
    if not path.exists():
        return {}, set(), set()  # killed before indexing anything
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"works", "dirty"} <= tables:
            return {}, set(), tables  # killed after the file was made, before its tables were committed
        works = {
            rid: (cluster, Record.model_validate_json(js))
            for rid, cluster, js in conn.execute("SELECT record_id, cluster, json FROM works")
        }
        dirty = {r[0] for r in conn.execute("SELECT work_id FROM dirty")}
        return works, dirty, tables
    finally:
        conn.close()


def engine_docs(dep: Deployment) -> dict[str, Record]:
    """Every document the engine holds (a fresh reader: what was committed)."""
    engine = open_engine(dep.settings)
    try:
        if dep.settings.engine == "elasticsearch":
            engine.refresh()  # acknowledged writes are durable; this only makes them searchable
        out: dict[str, Record] = {}
        cursor = None
        while True:
            result = engine.search(SearchQuery(per_page=100, highlight=False, cursor=cursor))
            for hit in result.hits:
                assert hit.id not in out, f"{hit.id} listed twice"
                out[hit.id] = hit.record
            cursor = result.next_cursor
            if cursor is None:
                return out
    finally:
        engine.close()


def waiting(dep: Deployment) -> dict[str, int]:
    done = dep.cli("sources", "--json")
    assert done.returncode == 0, done.stderr
    return {entry["source"]: entry["counts"]["unindexed"] for entry in json.loads(done.stdout)}


def clusters(works: dict[str, tuple[str, Record]]) -> dict[str, list[Record]]:
    out: dict[str, list[Record]] = {}
    for rid in sorted(works):
        cluster, record = works[rid]
        out.setdefault(cluster, []).append(record)
    return out


# --- the checks -------------------------------------------------------------------------------


def check_after_kill(dep: Deployment, where: str) -> None:
    rows = raw_rows(dep)
    docs = engine_docs(dep)
    works, dirty, _ = state_tables(dep)
    holders: dict[str, set[str]] = {}
    for doc in docs.values():
        for holding in doc.holdings:
            holders.setdefault(holding.record_id, set()).add(doc.id)
    for row in rows:
        state = "deleted" if row["deleted"] else row["content_hash"]
        if row["indexed_hash"] != state:
            continue  # waiting: no promise yet
        rid = make_record_id(row["source"], row["local_id"])
        record = current(dep, row)
        if record is None:
            assert rid not in holders, f"{where}: {rid} counts as indexed as deleted, but the engine has it"
        else:
            assert rid in holders, f"{where}: {rid} counts as indexed, but no engine document holds it"
            assert rid in works and works[rid][1] == record, (
                f"{where}: {rid} counts as indexed, but the state has another version"
            )
    for cluster, members in clusters(works).items():
        if cluster not in dirty:
            assert cluster in docs, f"{where}: work {cluster} is not journaled, yet the engine lacks it"
            assert docs[cluster] == merge(members), (
                f"{where}: work {cluster} is not journaled, yet the engine has another version"
            )
    for doc_id in set(docs) - {c for c, _ in works.values()}:
        assert doc_id in dirty, f"{where}: the engine holds {doc_id}, which neither the state nor its journal knows"
    unindexed: dict[str, int] = {}
    for row in rows:
        if row["indexed_hash"] != ("deleted" if row["deleted"] else row["content_hash"]):
            unindexed[row["source"]] = unindexed.get(row["source"], 0) + 1
    shown = waiting(dep)
    assert {s: n for s, n in shown.items() if n} == unindexed, f"{where}: `fedsearch sources` shows {shown}"


def check_converged(dep: Deployment, where: str) -> None:
    rows = raw_rows(dep)
    works, dirty, tables = state_tables(dep)
    expected = {make_record_id(r["source"], r["local_id"]): rec for r in rows if (rec := current(dep, r)) is not None}
    assert set(works) == set(expected), (
        f"{where}: the state holds {len(works)} records, the raw store has {len(expected)} live ones; "
        f"missing {sorted(set(expected) - set(works))[:5]}, extra {sorted(set(works) - set(expected))[:5]}"
    )
    stale = [rid for rid, rec in expected.items() if works[rid][1] != rec]
    assert not stale, f"{where}: the state has old versions of {stale[:5]}"
    docs = engine_docs(dep)
    merged = {cluster: merge(members) for cluster, members in clusters(works).items()}
    assert set(docs) == set(merged), (
        f"{where}: the engine holds {len(docs)} works, the state {len(merged)}; "
        f"missing {sorted(set(merged) - set(docs))[:5]}, extra {sorted(set(docs) - set(merged))[:5]}"
    )
    wrong = [c for c in merged if docs[c] != merged[c]]
    assert not wrong, f"{where}: the engine has other versions of {wrong[:5]}"
    left = [r["local_id"] for r in rows if r["indexed_hash"] != ("deleted" if r["deleted"] else r["content_hash"])]
    assert not left, f"{where}: records still wait to be indexed: {left[:5]}"
    assert not dirty, f"{where}: the journal still lists {sorted(dirty)[:5]}"
    assert not {t for t in tables if t.startswith("next_")}, f"{where}: a reindex's staging tables are left"


# --- trials -------------------------------------------------------------------------------------


def kill_during(dep: Deployment, command: str, rng: random.Random) -> bool:
    """Start a command, SIGKILL it after a random number of progress lines and a random pause.

    True if it was still running when killed.
    """
    kind = command.split()[0]
    after_lines, pause = rng.randint(0, MAX_LINES[kind]), rng.uniform(0.0, 0.3)
    env = {**dep.env, "FEDSEARCH_INDEX_BATCH": BATCHES[kind]}
    proc = subprocess.Popen(
        [str(FEDSEARCH), "--config", str(dep.config), "--log-level", "WARNING", *command.split()],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        seen = 0
        while seen < after_lines and proc.stderr.readline():
            seen += 1
        time.sleep(pause)
        running = proc.poll() is None
        if running:  # not reaped yet, so the pid is still this process's
            os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.stderr.close()
        proc.wait(timeout=60)
    return running


def run_trials(dep: Deployment, trials: int, seed: int) -> None:
    rng = random.Random(seed)
    for n in range(trials):
        if n:  # the first trial harvests everything for the first time
            dep.exports.change(rng, rate=0.08)
        command = rng.choice(KINDS) if n else "harvest"
        where = f"trial {n} (killed `fedsearch {command}`)"
        dep.kills_mid_run += kill_during(dep, command, rng)
        check_after_kill(dep, where)
        done = dep.cli("harvest")
        assert done.returncode == 0, f"{where}: the next harvest failed: {done.stdout}\n{done.stderr}"
        check_converged(dep, f"{where}, then `fedsearch harvest`")


def test_kill_anywhere_then_harvest_converges_embedded(tmp_path: Path, corpus: Path, repository: OaiPmhPartner):
    dep = make_deployment(tmp_path, corpus, repository, "embedded")
    run_trials(dep, 20, SEED)
    # The kills must mostly land while the command works, or the test shows little.
    assert dep.kills_mid_run >= 8, f"only {dep.kills_mid_run} of 20 kills landed while the command ran"
    done = dep.cli("reindex")
    assert done.returncode == 0, done.stderr
    assert "left" in done.stderr and "writing:" in done.stderr  # progress with an estimate of the time left
    check_converged(dep, "a clean reindex at the end")


def test_kill_anywhere_then_harvest_converges_elasticsearch(
    tmp_path: Path, corpus: Path, repository: OaiPmhPartner, es_config
):
    dep = make_deployment(tmp_path, corpus, repository, "elasticsearch", es_config)
    run_trials(dep, 4, SEED + 1)
    assert dep.kills_mid_run >= 2, f"only {dep.kills_mid_run} of 4 kills landed while the command ran"


# --- the moments a random kill rarely hits: just around a reindex's switch ------------------------


class Killed(BaseException):
    """Stands for SIGKILL at one exact moment (BaseException: nothing on the way may catch it)."""


class DiesAtSwitch:
    """The real engine, except that the process 'dies' just before or just after `rebuild` switches."""

    def __init__(self, engine, after_switch: bool):
        self.engine, self.after_switch = engine, after_switch

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def rebuild(self, records, before_switch=None):
        def dying(name: str) -> None:
            before_switch(name)
            if not self.after_switch:
                raise Killed

        self.engine.rebuild(records, before_switch=dying)
        raise Killed


@pytest.mark.parametrize("after_switch", [False, True], ids=["before-switch", "after-switch"])
def test_reindex_killed_at_the_switch_then_harvest_converges(
    tmp_path: Path, corpus: Path, repository: OaiPmhPartner, after_switch: bool
):
    from indexers.pipeline import harvest, rebuild_index
    from rawstore.harvest import harvest_sources
    from rawstore.store import RawStore

    dep = make_deployment(tmp_path, corpus, repository, "embedded")
    assert harvest(dep.settings, progress=False) == 0
    if after_switch:
        # What a reindex is for: a configuration change that alters records without any raw change.
        # Once the engine serves the rebuilt index, the next run must adopt the rebuilt state too.
        config = yaml.safe_load(dep.config.read_text(encoding="utf-8"))
        config["sources"][0]["institution"] = "Кыргыз улуттук университети"
        dep.config.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        dep.settings = load_config(dep.config)
    # Partner changes that reach the raw store only.
    dep.exports.change(random.Random(SEED), rate=0.2)
    with RawStore.for_settings(dep.settings) as store:  # the changes reach the raw store only
        assert all(run.ok for run in harvest_sources(dep.settings, ["cat", "diss"], store=store))
    served = engine_docs(dep)
    engine = open_engine(dep.settings, writer=True)
    try:
        with pytest.raises(Killed):
            rebuild_index(dep.settings, DiesAtSwitch(engine, after_switch))
        assert (engine.generation() == state_rebuild_generation(dep)) is after_switch
    finally:
        engine._drop_writer()  # what a killed process leaves: no commit on the way out
        engine.close()
    if not after_switch:
        assert engine_docs(dep) == served, "a reindex that did not switch changed what is served"
    done = dep.cli("harvest")
    assert done.returncode == 0, done.stderr
    check_converged(dep, f"reindex killed {'after' if after_switch else 'before'} the switch, then `fedsearch harvest`")


def state_rebuild_generation(dep: Deployment) -> str | None:
    conn = sqlite3.connect(f"file:{dep.root / 'data' / 'index-state.sqlite'}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'rebuild_generation'").fetchone()
        return row[0] if row else None
    finally:
        conn.close()


def test_one_indexer_per_data_directory(tmp_path: Path, corpus: Path, repository: OaiPmhPartner):
    """While another process indexes, harvest stores and says so; reindex refuses; nothing is lost."""
    from indexers.pipeline import index_lock

    dep = make_deployment(tmp_path, corpus, repository, "embedded")
    with index_lock(dep.settings.data_dir):
        done = dep.cli("harvest")
        assert done.returncode == 1
        assert "harvested, not indexed: another process is indexing" in done.stderr
        assert sum(waiting(dep).values()) > 0
        done = dep.cli("reindex")
        assert done.returncode == 1 and "not reindexed: another process is indexing" in done.stderr
    done = dep.cli("harvest")
    assert done.returncode == 0, done.stderr
    check_converged(dep, "a harvest after the other indexer finished")
