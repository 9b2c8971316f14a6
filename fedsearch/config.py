"""The deployment's one YAML configuration file, validated at start.

Chosen with `--config PATH` or `FEDSEARCH_CONFIG`. Every error names the file,
the key (like `sources[1].url`) and what would be valid.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from fedsearch.errors import FedsearchError
from fedsearch.record import SOURCE_ID_PATTERN

ENV_VAR = "FEDSEARCH_CONFIG"
# Last: the configuration `fedsearch demo` writes into its default data_dir, so that `fedsearch admin
# create-user` (and every other command) run next to a demo reach the demo's databases.
DEFAULT_PATHS = (Path("fedsearch.yaml"), Path("config/fedsearch.yaml"), Path("demo-data/fedsearch.yaml"))


class ConfigError(FedsearchError):
    """A configuration file that can't be used; `problems` are (key, message) pairs.

    `codes` gives each problem's stable code (config.unknown_key, config.missing_key,
    config.invalid_value, config.not_found, config.unreadable); `error_code` is theirs when
    they agree, else config.invalid.
    """

    error_code = "config.invalid"

    def __init__(self, path: Path | str, problems: list[tuple[str, str]], codes: list[str] | None = None):
        self.path = str(path)
        self.problems = problems
        self.codes = list(codes) if codes is not None else [INVALID_VALUE] * len(problems)
        if len(set(self.codes)) == 1:
            # one code says more than config.invalid
            self.error_code = self.codes[0]  # type: ignore[misc]
        lines = [f"{self.path}: {key or '(top level)'}: {msg}" for key, msg in problems]
        super().__init__("invalid configuration\n  " + "\n  ".join(lines))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


_INTERVAL = r"^(-1|[1-9][0-9]*(ms|s|m))$"  # Elasticsearch time values a refresh interval takes


class ElasticsearchConfig(_Strict):
    hosts: list[Annotated[str, Field(pattern=r"^https?://")]] = ["http://127.0.0.1:9200"]
    index_prefix: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,40}$")] = "fedsearch"
    request_timeout: Annotated[float, Field(gt=0, le=300)] = 10.0
    # Searches, record reads and health checks: short, so a hung node costs a reader seconds, not minutes.
    search_timeout: Annotated[float, Field(gt=0, le=300)] = 5.0
    username: str | None = None
    password: str | None = None
    # One shard gives exact facet counts; raise both for a cluster (docs/operations.md, "A cluster").
    # Elasticsearch's own names are accepted too.
    shards: Annotated[int, Field(ge=1, le=64, validation_alias=AliasChoices("shards", "number_of_shards"))] = 1
    replicas: Annotated[int, Field(ge=0, le=8, validation_alias=AliasChoices("replicas", "number_of_replicas"))] = 0
    # How soon a write becomes searchable; a rebuild fills its new index with `bulk_refresh_interval`
    # ("-1": never until the switch) and sets this one before searches reach it.
    refresh_interval: Annotated[str, Field(pattern=_INTERVAL)] = "1s"
    bulk_refresh_interval: Annotated[str, Field(pattern=_INTERVAL)] = "-1"
    # `fedsearch snapshot`: a filesystem repository, a folder every node lists in `path.repo`.
    snapshot_repository: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,60}$")] = "fedsearch-snapshots"
    snapshot_path: str | None = None


class ServerConfig(_Strict):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8000
    # Public URL, for feeds, OpenSearch and permalinks; None means "from the request".
    base_url: str | None = None
    # Identify's adminEmail at /oai (OAI-PMH); None: webmaster@ the public host.
    admin_email: Annotated[str | None, Field(pattern=r"^[^@\s]+@[^@\s]+$")] = None
    cors_origins: list[str] = []
    rate_limit_per_minute: Annotated[int, Field(ge=1)] = 120
    # Signs admin session cookies; FEDSEARCH_SECRET_KEY overrides it.
    secret_key: str | None = None
    secure_cookies: bool = True
    # Host names this server answers to (Host header); [] allows any. base_url's host is added.
    trusted_hosts: list[str] = []
    # Addresses of reverse proxies whose X-Forwarded-For/-Proto we believe; [] (default) believes none.
    trusted_proxies: list[str] = []
    # A slow engine costs the site nothing else (search_api/guard.py, docs/engines.md).
    engine_max_in_flight: Annotated[int, Field(ge=1, le=1000)] = 8
    engine_queue_seconds: Annotated[float, Field(gt=0, le=60)] = 2.0
    engine_breaker_failures: Annotated[int, Field(ge=1, le=1000)] = 5
    engine_breaker_seconds: Annotated[float, Field(gt=0, le=3600)] = 10.0
    health_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 1.0
    # Server processes for `fedsearch serve`; 0: one per core, at most 4 (search_api/serving.py, docs/operations.md).
    workers: Annotated[int, Field(ge=0, le=64)] = 0
    # The zone the admin shows times in (stored times stay UTC): an IANA name like Asia/Bishkek or UTC.
    timezone: str = "Asia/Bishkek"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}; use an IANA name like Asia/Bishkek or UTC") from None
        return v


@dataclass(frozen=True)
class Reach:
    """What one source's harvest may read on this machine and its network (connectors/reach.py).

    Built by `Settings.policy_for` from the `reach:` section and the source's
    `allow_private_networks`; never from a source's own `policy:` keys, so a
    source can't widen its reach. The default reaches no file and no private address.
    """

    import_dirs: tuple[Path, ...] = ()
    allow_private_networks: bool = False


class HarvestPolicy(_Strict):
    """How politely we talk to partners; a source may override any of these."""

    _reach: Reach = PrivateAttr(default_factory=Reach)

    @property
    def reach(self) -> Reach:
        return self._reach

    def with_reach(self, reach: Reach) -> HarvestPolicy:
        policy = self.model_copy()
        policy._reach = reach
        return policy

    timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 30.0
    delay_seconds: Annotated[float, Field(ge=0, le=600)] = 1.0
    max_retries: Annotated[int, Field(ge=0, le=20)] = 5
    max_record_bytes: Annotated[int, Field(ge=1024)] = 10 * 1024 * 1024
    user_agent: str = "fedsearch-harvester/0.1 (+https://github.com/fedsearch)"
    # Integrity of listings (docs/connectors.md, "Damaged answers and deletions").
    # A page that is damaged (not XML, cut off, token cut, count disagreeing) is fetched again this often.
    damage_retries: Annotated[int, Field(ge=0, le=20)] = 3
    # A full harvest that would mark more than this share of a source's live records deleted is held
    # for a librarian to confirm (admin, or `fedsearch harvest --confirm-deletions`).
    sweep_max_share: Annotated[float, Field(ge=0, le=1)] = 0.10
    # Endless listings: stop after this many pages in a row bring no identifier new to the run,
    max_pages_without_new: Annotated[int, Field(ge=1, le=10000)] = 5
    # or after this many pages in one run,
    max_pages: Annotated[int, Field(ge=1)] = 100_000
    # or when more records arrive than the server's completeListSize plus this share of it (at least 10).
    list_size_margin: Annotated[float, Field(ge=0, le=10)] = 0.10
    # Incremental harvests ask from the earlier of the last run's responseDate and its newest
    # datestamp, minus this overlap, so records stamped late are not missed.
    incremental_overlap_seconds: Annotated[int, Field(ge=0, le=366 * 86400)] = 86400


class ReachConfig(_Strict):
    """What harvests may read: files in these folders, and private addresses only when allowed (docs/security.md)."""

    # Folders whose files file connectors may read; default <data_dir>/imports. Relative: to the working directory.
    import_dirs: list[Path] = []
    # Every source may reach loopback, link-local and private addresses (a source may opt in on its own).
    allow_private_networks: bool = False


class DedupConfig(_Strict):
    # Pairs of record ids that must never be merged (undo a wrong merge).
    never_merge: list[tuple[str, str]] = []
    fuzzy_threshold: Annotated[float, Field(ge=0, le=100)] = 92.0


class SourceConfig(BaseModel):
    """Common keys of every source; the rest are the connector's own options."""

    model_config = ConfigDict(extra="allow")

    id: Annotated[str, Field(pattern=SOURCE_ID_PATTERN)]
    connector: str
    name: dict[Literal["ky", "ru", "en"], str] = {}
    enabled: bool = True
    # An interval like "30m", "6h", "1d", or a five-field cron expression.
    schedule: str | None = None
    institution: str | None = None
    policy: HarvestPolicy | None = None
    # This source may reach loopback, link-local and private addresses (partners on the local network).
    # Only an admin sets it (the web admin refuses it from librarians).
    allow_private_networks: bool = False

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})

    def display_name(self, lang: str = "en") -> str:
        mine = next((text for code, text in self.name.items() if code == lang), None)
        return mine or next(iter(self.name.values()), self.id)


ENGINE_GROUP = "fedsearch.engines"  # the entry-point group engines are installed in


def engine_names() -> list[str]:
    """The installed engines' names, read from their entry points without importing them."""
    from importlib.metadata import entry_points

    return sorted({"elasticsearch", "embedded"} | {ep.name for ep in entry_points(group=ENGINE_GROUP)})


class Settings(_Strict):
    engine: str = "embedded"  # an installed engine's name (fedsearch/engines/registry.py)
    data_dir: Path = Path("./data")
    elasticsearch: ElasticsearchConfig = ElasticsearchConfig()
    server: ServerConfig = ServerConfig()
    harvest: HarvestPolicy = HarvestPolicy()
    dedup: DedupConfig = DedupConfig()
    reach: ReachConfig = ReachConfig()
    sources: list[SourceConfig] = []

    # Where the file came from, for messages; not a YAML key.
    config_path: Path | None = Field(default=None, exclude=True)

    @field_validator("engine")
    @classmethod
    def _known_engine(cls, name: str) -> str:
        known = engine_names()
        if name not in known:
            raise ValueError(f"unknown engine {name!r}; installed engines: {', '.join(known)}")
        return name

    @field_validator("sources")
    @classmethod
    def _unique_ids(cls, sources: list[SourceConfig]) -> list[SourceConfig]:
        seen: set[str] = set()
        for s in sources:
            if s.id in seen:
                raise ValueError(f"source id {s.id!r} is used twice; ids must be unique")
            seen.add(s.id)
        return sources

    def source(self, source_id: str) -> SourceConfig:
        for s in self.sources:
            if s.id == source_id:
                return s
        known = ", ".join(s.id for s in self.sources) or "none"
        raise KeyError(f"no source {source_id!r} in the configuration (known: {known})")

    def policy_for(self, source: SourceConfig) -> HarvestPolicy:
        """The source's politeness (its own or the server-wide one), with the reach the configuration grants it."""
        return (source.policy or self.harvest).with_reach(
            Reach(
                import_dirs=tuple(self.import_dirs),
                allow_private_networks=self.reach.allow_private_networks or source.allow_private_networks,
            )
        )

    @property
    def import_dirs(self) -> list[Path]:
        dirs = self.reach.import_dirs or [Path(self.data_dir) / "imports"]
        return [d if d.is_absolute() else Path.cwd() / d for d in dirs]

    @property
    def secret_key(self) -> str | None:
        return os.environ.get("FEDSEARCH_SECRET_KEY") or self.server.secret_key


def _key(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


# The stable codes of configuration problems (fedsearch/errors.py).
UNKNOWN_KEY = "config.unknown_key"
MISSING_KEY = "config.missing_key"
INVALID_VALUE = "config.invalid_value"
NOT_FOUND = "config.not_found"
UNREADABLE = "config.unreadable"  # not YAML, not UTF-8, not a mapping
UNKNOWN_CONNECTOR = "config.unknown_connector"
UNKNOWN_KEY_MESSAGE = "unknown key; check its spelling against config/fedsearch.example.yaml"


def problem_code(error_type: str) -> str:
    """The code of a pydantic error type."""
    return {"extra_forbidden": UNKNOWN_KEY, "missing": MISSING_KEY}.get(error_type, INVALID_VALUE)


def validation_codes(err: ValidationError) -> list[str]:
    """The codes of `validation_problems(err)`, in the same order."""
    return [problem_code(e["type"]) for e in err.errors()]


def validation_problems(err: ValidationError, prefix: tuple[Any, ...] = ()) -> list[tuple[str, str]]:
    problems = []
    for e in err.errors():
        loc = prefix + tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = UNKNOWN_KEY_MESSAGE
        elif e["type"] == "literal_error":
            msg = f"{msg} (got {e.get('input')!r})"
        problems.append((_key(loc), msg))
    return problems


# Checks the core can't make itself, such as each source's connector options (the
# connector registry makes them: fedsearch_app.settings passes connectors.registry's).
SourcesCheck = Callable[[list["SourceConfig"]], list[tuple[str, str]]]


def validate_settings(
    data: Any, path: Path | str = "<memory>", *, check_sources: SourcesCheck | None = None
) -> Settings:
    """Validate a parsed configuration; `check_sources` adds the problems of the sources it finds."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(path, [("", "the file must hold a YAML mapping (key: value lines)")], [UNREADABLE])
    try:
        settings = Settings.model_validate(data)
    except ValidationError as err:
        raise ConfigError(path, validation_problems(err), validation_codes(err)) from None
    problems = check_sources(settings.sources) if check_sources is not None else []
    if problems:
        raise ConfigError(path, problems, [_checked_code(key, msg) for key, msg in problems])
    settings.config_path = Path(path) if path != "<memory>" else None
    return settings


def _checked_code(key: str, message: str) -> str:
    """The code of a problem `check_sources` found (it gives (key, message) pairs, in our words)."""
    if key.endswith(".connector"):
        return UNKNOWN_CONNECTOR
    if message == UNKNOWN_KEY_MESSAGE:
        return UNKNOWN_KEY
    return MISSING_KEY if message == "Field required" else INVALID_VALUE  # pydantic's words for a missing key


def find_config_path(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    if explicit:
        return Path(explicit)
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    return next((p for p in DEFAULT_PATHS if p.exists()), None)


def load_config(
    explicit: str | os.PathLike[str] | None = None, *, check_sources: SourcesCheck | None = None
) -> Settings:
    """Load and validate the configuration; defaults when no file is found."""
    path = find_config_path(explicit)
    if path is None:
        return validate_settings({}, "<defaults>", check_sources=check_sources)
    if not path.exists():
        raise ConfigError(path, [("", f"file not found (from {'--config' if explicit else ENV_VAR})")], [NOT_FOUND])
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = ("", f"not valid YAML {where}: {getattr(err, 'problem', err)}")
        raise ConfigError(path, [problem], [UNREADABLE]) from None
    except UnicodeDecodeError:
        raise ConfigError(path, [("", "the file is not UTF-8 text")], [UNREADABLE]) from None
    settings = validate_settings(data, path, check_sources=check_sources)
    if not settings.data_dir.is_absolute():
        # Relative data_dir is relative to the working directory, like every CLI path.
        settings.data_dir = Path.cwd() / settings.data_dir
    return settings
