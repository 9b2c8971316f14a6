"""What the admin shows about a source: its state, counts, runs, next run, and a chart of its records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from markupsafe import Markup, escape

from connectors.registry import get_connector
from fedsearch.config import Settings, SourceConfig
from fedsearch_app.admin.plain import Plain, plain
from fedsearch_app.admin.rendering import duration
from fedsearch_app.scheduler import HarvestJob, InvalidSchedule, source_next_run
from rawstore import harvest
from rawstore.models import RunSummary, SourceCounts, parse_time
from rawstore.store import RawStore
from web_ui.i18n import N_


@dataclass
class SourceRow:
    source: SourceConfig
    name: str
    managed: bool  # added or changed in the admin (else only in the YAML file)
    state: str  # running | disabled | failing | enabled
    counts: SourceCounts
    last_run: RunSummary | None
    next_run: datetime | None
    schedule_problem: str | None
    error: Plain | None
    job: HarvestJob | None

    @property
    def progress(self) -> dict | None:
        """The running (or last) harvest of this process; else a run another process is doing."""
        run = self.last_run
        mine = self.job is not None and self.job.running
        if not mine and run is not None and run.status == "running":
            return self._run_elsewhere(run)
        return self.job.as_dict() if self.job is not None else None

    @staticmethod
    def _run_elsewhere(run: RunSummary) -> dict:
        started = parse_time(run.started_at)
        return {
            "source": run.source,
            "kind": "harvest",
            "mode": run.mode,
            "trigger": None,
            "status": "running",
            "phase": "harvesting",
            "stopping": False,
            "elsewhere": True,
            "started_at": run.started_at,
            "ended_at": None,
            "seconds": round((datetime.now(UTC) - started).total_seconds(), 1),
            "run_id": run.id,
            "pages": run.pages,
            "records": run.records,
            "new": run.new,
            "changed": run.changed,
            "deleted": run.deleted,
            "unchanged": run.unchanged,
            "quarantined": run.quarantined,
            "indexed": 0,
            "written": 0,
            "error": None,
            "error_code": None,
        }

    def _progress_shown(self) -> dict | None:
        progress = self.progress
        if progress is not None:
            progress["duration"] = duration(progress["seconds"])  # in the UI's language, for the page's script
        return progress

    def as_dict(self) -> dict:
        return {
            "id": self.source.id,
            "name": self.name,
            "connector": self.source.connector,
            "state": self.state,
            "enabled": self.source.enabled,
            "schedule": self.source.schedule,
            "counts": {
                "live": self.counts.live,
                "deleted": self.counts.deleted,
                "quarantined": self.counts.quarantined,
                "unindexed": self.counts.unindexed,
            },
            "last_run": self.last_run.as_dict() if self.last_run else None,
            "next_run": self.next_run.isoformat(timespec="seconds") if self.next_run else None,
            "error": self.error.message if self.error else None,
            "job": self._progress_shown(),
        }


def source_row(source: SourceConfig, store: RawStore, job: HarvestJob | None, lang: str, managed: bool) -> SourceRow:
    status = store.source_status(source.id)
    schedule_problem = None
    try:
        upcoming = source_next_run(source, store)
    except InvalidSchedule as err:
        upcoming, schedule_problem = None, str(err)
    running = (job is not None and job.running) or (status.last_run is not None and status.last_run.status == "running")
    if running:
        state = "running"
    elif not source.enabled:
        state = "disabled"
    elif status.last_run is not None and status.last_run.status == "failed":
        state = "failing"
    elif status.last_run is not None and status.last_run.status == "incomplete":
        state = "incomplete"
    else:
        state = "enabled"
    error = plain(status.last_error, status.last_error_code)
    if job is not None and not job.running and job.error and job.status == "failed":
        error = plain(job.error, job.error_code)  # e.g. indexing failed after a good harvest
    return SourceRow(
        source,
        source.display_name(lang),
        managed,
        state,
        status.counts,
        status.last_run,
        upcoming,
        schedule_problem,
        error,
        job,
    )


def planned_mode(settings: Settings, source: SourceConfig, store: RawStore, *, full: bool) -> str:
    """'full' or 'incremental': what a harvest started now will do, decided as the harvest runner decides
    (rawstore/harvest.py), so the page, the audit log, the runs table and the server log agree."""
    try:
        cls = get_connector(source.connector)
        connector = cls(source, cls.Options.model_validate(source.options), settings.policy_for(source))
    except Exception:  # noqa: BLE001 - a source that can't be built fails its harvest; its plan is moot
        return "full"
    return harvest.planned_mode(connector, source, store, full=full)


STATE_LABELS = {
    "running": N_("Running"),
    "disabled": N_("Disabled"),
    "failing": N_("Failing"),
    "incomplete": N_("Incomplete"),
    "enabled": N_("Enabled"),
}
RUN_STATUS_LABELS = {
    "running": N_("Running"),
    "ok": N_("Finished"),
    "failed": N_("Failed"),
    "stopped": N_("Stopped"),
    "incomplete": N_("Incomplete: damaged answers"),
}


# -- the chart ------------------------------------------------------------------------------------

W, H, LEFT, RIGHT, TOP, BOTTOM = 640, 200, 56, 16, 16, 36


def records_over_time(runs: list[RunSummary], live_now: int) -> list[tuple[datetime, int]]:
    """(end of run, live records after it), oldest first, counted back from today's live count."""
    points = []
    live = live_now
    for run in runs:  # newest first
        when = parse_time(run.ended_at or run.started_at)
        points.append((when, live))
        live = max(0, live - run.new + run.deleted)
    return list(reversed(points))


def _short_date(when: datetime) -> str:
    return when.strftime("%Y-%m-%d")


def records_chart(points: list[tuple[datetime, int]], title: str, description: str) -> Markup:
    """An inline SVG line chart; no script, and the run table beside it holds the same numbers."""
    if not points:
        return Markup("")
    t0, t1 = points[0][0].timestamp(), points[-1][0].timestamp()
    top = max(n for _t, n in points) or 1
    span = (t1 - t0) or 1.0

    def x(t: float) -> float:
        return LEFT + (W - LEFT - RIGHT) * ((t - t0) / span if len(points) > 1 else 0.5)

    def y(n: int) -> float:
        return TOP + (H - TOP - BOTTOM) * (1 - n / top)

    coords = " ".join(f"{x(p[0].timestamp()):.1f},{y(p[1]):.1f}" for p in points)
    dots = "".join(f'<circle cx="{x(p[0].timestamp()):.1f}" cy="{y(p[1]):.1f}" r="3" fill="#0a4fb4"/>' for p in points)
    svg = (
        f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-labelledby="chart-title chart-desc" '
        f'preserveAspectRatio="xMidYMid meet">'
        f'<title id="chart-title">{escape(title)}</title><desc id="chart-desc">{escape(description)}</desc>'
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{H - BOTTOM}" stroke="#5c5c5c"/>'
        f'<line x1="{LEFT}" y1="{H - BOTTOM}" x2="{W - RIGHT}" y2="{H - BOTTOM}" stroke="#5c5c5c"/>'
        f'<text x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end" font-size="12" fill="#333">{top}</text>'
        f'<text x="{LEFT - 6}" y="{H - BOTTOM + 4}" text-anchor="end" font-size="12" fill="#333">0</text>'
        f'<text x="{LEFT}" y="{H - 12}" font-size="12" fill="#333">{escape(_short_date(points[0][0]))}</text>'
        f'<text x="{W - RIGHT}" y="{H - 12}" text-anchor="end" font-size="12" fill="#333">'
        f"{escape(_short_date(points[-1][0]))}</text>"
        f'<polyline points="{coords}" fill="none" stroke="#0a4fb4" stroke-width="2"/>{dots}</svg>'
    )
    return Markup(svg)  # noqa: S704 - numbers we computed and escaped text only
