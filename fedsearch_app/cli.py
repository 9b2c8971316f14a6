"""The `fedsearch` command. Each subcommand is a thin call into its layer."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable

from fedsearch.config import ConfigError, Settings
from fedsearch.logs import setup_logging
from fedsearch_app.settings import load_settings

EXIT_OK, EXIT_FAIL, EXIT_CONFIG, EXIT_STOPPED = 0, 1, 2, 130


def _settings(args: argparse.Namespace) -> Settings:
    from fedsearch_app.managed_sources import with_managed_sources  # sources added in the web admin (docs/admin.md)

    return with_managed_sources(load_settings(args.config))


def cmd_check_config(args: argparse.Namespace) -> int:
    settings = _settings(args)
    where = settings.config_path or "built-in defaults"
    print(f"{where}: OK (engine {settings.engine}, {len(settings.sources)} sources)")
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from fedsearch_app.app import serve

    return serve(_settings(args), host=args.host, port=args.port, workers=args.workers)


def cmd_demo(args: argparse.Namespace) -> int:
    from fedsearch_app.demo import run_demo

    return run_demo(data_dir=args.data_dir, port=args.port, open_browser=False, engine=args.engine)


def cmd_harvest(args: argparse.Namespace) -> int:
    from fedsearch.signals import GracefulStop
    from indexers.pipeline import harvest

    settings = _settings(args)
    with GracefulStop() as stop:
        code = harvest(
            settings,
            source_ids=args.source or None,
            full=args.full,
            confirm_deletions=args.confirm_deletions,
            stop=stop.event,
        )
    return EXIT_STOPPED if stop.is_set() else code


def cmd_reindex(args: argparse.Namespace) -> int:
    from indexers.pipeline import reindex

    return reindex(_settings(args))


def cmd_sources(args: argparse.Namespace) -> int:
    from rawstore.status import print_sources

    return print_sources(_settings(args), as_json=args.json)


def cmd_connectors(args: argparse.Namespace) -> int:
    from connectors.registry import installed

    out = {}
    for name, cls in installed().items():
        schema = cls.Options.model_json_schema()
        out[name] = {
            "class": f"{cls.__module__}.{cls.__qualname__}",
            "description": cls.description,
            "options": {
                k: {
                    "type": v.get("type", v.get("anyOf", "")),
                    "default": v.get("default"),
                    "description": v.get("description", ""),
                }
                for k, v in schema.get("properties", {}).items()
            },
            "required": schema.get("required", []),
        }
    if args.json:
        print(json.dumps(out, indent=2, ensure_ascii=False, default=str))
        return EXIT_OK
    for name, info in out.items():
        print(f"{name}  ({info['class']})")
        if info["description"]:
            print(f"    {info['description']}")
        for opt, meta in info["options"].items():
            req = " (required)" if opt in info["required"] else f" = {meta['default']!r}"
            print(f"    {opt}{req}  {meta['description']}")
    return EXIT_OK


def cmd_admin_create_user(args: argparse.Namespace) -> int:
    from fedsearch_app.admin.users import create_user_cli

    return create_user_cli(_settings(args), username=args.username, role=args.role)


def cmd_scheduler(args: argparse.Namespace) -> int:
    from fedsearch_app.scheduler import run_scheduler

    return run_scheduler(_settings(args))


def cmd_backup(args: argparse.Namespace) -> int:
    from fedsearch_app.backup import backup_cli, restore_cli  # docs/operations.md

    return (backup_cli if args.command == "backup" else restore_cli)(_settings(args), args.dir)


def cmd_snapshot(args: argparse.Namespace) -> int:
    from fedsearch_app.snapshots import restore_snapshot_cli, snapshot_cli  # docs/operations.md, "Snapshots"

    return (snapshot_cli if args.command == "snapshot" else restore_snapshot_cli)(_settings(args), args.name)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fedsearch", description="Free-access search over scientific information.")
    p.add_argument("--config", help="the YAML configuration (default: $FEDSEARCH_CONFIG, ./fedsearch.yaml)")
    p.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR")
    p.add_argument("--log-json", action="store_true", help="one JSON object per log line")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=help)
        sp.set_defaults(func=func)
        return sp

    add("check-config", cmd_check_config, "validate the configuration; exit 0 if good, 2 if not")
    sp = add("serve", cmd_serve, "serve the web UI and the API")
    sp.add_argument("--host")
    sp.add_argument("--port", type=int)
    sp.add_argument("--workers", type=int, help="server processes (default server.workers: one per core, at most 4)")
    sp = add("demo", cmd_demo, "start sample partners, harvest them into the embedded engine, and serve")
    sp.add_argument("--data-dir", default="./demo-data")
    sp.add_argument("--port", type=int, default=8000)
    sp.add_argument("--engine", choices=["embedded", "elasticsearch"], default="embedded")
    sp = add("harvest", cmd_harvest, "harvest sources and index what changed")
    sp.add_argument("--source", action="append", metavar="ID", help="only this source (repeatable)")
    sp.add_argument("--full", action="store_true", help="ignore the last run and harvest everything")
    sp.add_argument(
        "--confirm-deletions",
        action="store_true",
        help="apply deletion sweeps held by the safety brake (harvest.sweep_max_share), and let this "
        "run's full listing delete more than that share",
    )
    add("reindex", cmd_reindex, "rebuild the search index from the raw store, then switch to it")
    sp = add("sources", cmd_sources, "show each source's last run, counts and last error")
    sp.add_argument("--json", action="store_true")
    sp = add("connectors", cmd_connectors, "list installed connectors and their options")
    sp.add_argument("--json", action="store_true")
    admin = sub.add_parser("admin", help="manage the web admin").add_subparsers(dest="admin_command", required=True)
    sp = admin.add_parser(
        "create-user", help="create an admin or librarian account (password read from stdin or prompted)"
    )
    sp.add_argument("username")
    sp.add_argument("--role", choices=["admin", "librarian"], default="librarian")
    sp.set_defaults(func=cmd_admin_create_user)
    add("scheduler", cmd_scheduler, "run scheduled harvests (when the server does not run them)")
    add("backup", cmd_backup, "copy the databases and the embedded index, online, into a new DIR").add_argument("dir")
    add("restore", cmd_backup, "copy a backup DIR into a fresh data directory").add_argument("dir")
    add(
        "snapshot", cmd_snapshot, "snapshot the Elasticsearch index into elasticsearch.snapshot_repository"
    ).add_argument("--name", help="the snapshot's name (default: <alias>-<UTC time>)")
    add(
        "restore-snapshot", cmd_snapshot, "restore a snapshot (default: the newest) and switch the alias to it"
    ).add_argument("name", nargs="?")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.log_level, as_json=args.log_json)
    try:
        return args.func(args)
    except ConfigError as err:
        print(f"fedsearch: {err}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        logging.getLogger("fedsearch").info("interrupted")
        return EXIT_STOPPED


if __name__ == "__main__":
    sys.exit(main())
