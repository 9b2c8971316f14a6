"""Managing sources in the admin: generated forms, inline errors, saving that survives a restart and
passes check-config, YAML export and import, harvesting, quarantine retries, deletion."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from datetime import UTC

import pytest
import yaml

from connectors.registry import installed
from fedsearch.engines import open_engine
from fedsearch_app.admin import forms
from fedsearch_app.app import create_app
from fedsearch_app.cli import main as cli_main
from fedsearch_app.managed_sources import ManagedSources
from tests.conftest import ROOT
from tests.fedsearch_app.admin.conftest import AdminClient, http_client


def field_errors(html: str) -> dict[str, str]:
    return dict(re.findall(r'<p class="field-error" id="f-([\w-]+)-error">([^<]+)</p>', html))


def test_every_connector_gets_a_form_from_its_options_model(settings):
    from fedsearch_app.admin.option_texts import option_texts
    from web_ui.i18n import gettext_

    for name, cls in installed().items():
        form = forms.source_form(settings, cls)
        schema = cls.Options.model_json_schema()
        assert [f.name for f in form.options] == [f"opt.{k}" for k in schema["properties"]], name
        for f in (
            form.options
        ):  # the librarians' help (fedsearch_app/admin/option_texts.py), else the developers' description
            texts = option_texts(name, f.name[4:])
            assert f.help == (gettext_(texts[1]) if texts else schema["properties"][f.name[4:]]["description"]), f.name
    tabular = {f.name: f for f in forms.source_form(settings, installed()["tabular"]).options}
    assert tabular["opt.mapping"].kind == "pairs" and tabular["opt.required"].kind == "lines"
    assert tabular["opt.file_type"].kind == "select" and tabular["opt.header_row"].kind == "number"
    assert ("dissertation", "dissertation") in tabular["opt.type"].choices and tabular["opt.type"].choices[0] == (
        "",
        "—",
    )
    assert tabular["opt.path"].required and not tabular["opt.sheet"].required


def test_a_plugin_connector_gets_its_form_for_free(tmp_path, monkeypatch, boss):
    (tmp_path / "kg_form_connector.py").write_text(
        textwrap.dedent("""
        from typing import Annotated, Literal
        from pydantic import BaseModel, Field
        from connectors.base import Connector, ConnectorOptions, RawRecord

        class Window(BaseModel):
            start: int
            end: int

        class ShelfOptions(ConnectorOptions):
            shelf: Annotated[str, Field(description="Which shelf to read")]
            weight: Annotated[float, Field(gt=0, description="Relative weight")] = 1.0
            dusty: Annotated[bool, Field(description="Include dusty books")] = False
            order: Annotated[Literal["asc", "desc"], Field(description="Reading order")] = "asc"
            window: Annotated[Window | None, Field(description="Shelf window")] = None

        class ShelfConnector(Connector):
            name = "shelf"
            Options = ShelfOptions
            description = "Reads a shelf"

            def harvest(self, *, since, checkpoint):
                yield RawRecord(local_id="1", format="tabular", payload=b'{"title": "A book"}')
    """)
    )
    dist = tmp_path / "kg_form_connector-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: kg-form-connector\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[fedsearch.connectors]\nshelf = kg_form_connector:ShelfConnector\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    installed.cache_clear()
    try:
        page = boss.get("/admin/add-source?connector=shelf").text
        assert 'name="opt.shelf"' in page and "Which shelf to read" in page
        assert 'type="checkbox" id="f-opt-dusty" name="opt.dusty"' in page
        assert '<option value="desc">desc</option>' in page
        assert 'name="opt.window"' in page and "In YAML." in page
        r = boss.post(
            "/admin/add-source",
            {
                "connector": "shelf",
                "id": "shelf-1",
                "opt.shelf": "A3",
                "opt.weight": "0",
                "opt.window": "start: 1\nend: [",
                "action": "save",
            },
        )
        assert r.status_code == 400
        errors = field_errors(r.text)
        assert errors["opt-weight"] == "Must be more than 0."
        assert errors["opt-window"].startswith("Not valid YAML")
        r = boss.post(
            "/admin/add-source",
            {
                "connector": "shelf",
                "id": "shelf-1",
                "opt.shelf": "A3",
                "opt.dusty": "on",
                "opt.weight": "2.5",
                "opt.window": "start: 1\nend: 9",
                "enabled": "on",
                "action": "save",
            },
        )
        assert r.status_code == 303
        saved = ManagedSources.for_settings(boss.http.app.state.settings).get("shelf-1").config
        assert saved == {
            "id": "shelf-1",
            "connector": "shelf",
            "shelf": "A3",
            "weight": 2.5,
            "dusty": True,
            "window": {"start": 1, "end": 9},
        }
    finally:
        sys.modules.pop("kg_form_connector", None)
        installed.cache_clear()


def test_errors_are_shown_next_to_their_fields(boss):
    r = boss.post(
        "/admin/add-source",
        {
            "connector": "tabular",
            "id": "Theses!",
            "schedule": "every day",
            "opt.path": "",
            "opt.id_column": "id",
            "opt.header_row": "zero",
            "opt.mapping": "title = Тема\nno equals sign",
            "policy.delay_seconds": "-1",
            "action": "save",
        },
    )
    assert r.status_code == 400
    assert field_errors(r.text) == {
        "id": "Use lowercase Latin letters, digits, - and _, starting with a letter or digit (at most 63 characters).",
        "schedule": "Write an interval such as 30m, 6h or 1d, or a five-field cron expression such as 0 3 * * *.",
        "opt-path": "Required.",
        "opt-header_row": "Enter a whole number.",
        "opt-mapping": "Line 2: write key = value.",
        "policy-delay_seconds": "Must be at least 0.",
    }
    assert 'aria-invalid="true"' in r.text and 'href="#f-opt-path"' in r.text  # the summary links to the field
    assert 'value="every day"' in r.text  # what was typed stays
    ru = boss.post(
        "/admin/add-source?lang=ru", {"connector": "tabular", "id": "t", "opt.id_column": "id", "action": "save"}
    )
    assert field_errors(ru.text)["opt-path"] == "Обязательное поле."
    assert (
        boss.post(
            "/admin/add-source", {"connector": "oai-pmh", "id": "knu", "opt.url": "http://x.kg/oai", "action": "save"}
        ).status_code
        == 400
    )  # the id is taken


def test_a_saved_source_survives_a_restart_and_passes_check_config(tmp_path, settings, boss, monkeypatch):
    r = boss.post(
        "/admin/add-source",
        {
            "connector": "oai-pmh",
            "id": "auca",
            "name.ru": "Репозиторий АУЦА",
            "opt.url": "https://repo.auca.kg/oai",
            "opt.sets": "theses\n\narticles",
            "schedule": "1d",
            "enabled": "on",
            "policy.delay_seconds": "3",
            "action": "save",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin/sources/auca?done=saved"
    assert boss.post("/admin/sources/knu/disable").status_code == 303
    # A new server over the same data directory (and the same YAML) has both changes.
    restarted = create_app(settings.model_copy(update={"sources": settings.sources}))
    again = AdminClient(http_client(restarted))
    assert again.login("boss").status_code == 303
    listed = again.get("/admin/api/sources").json()["sources"]
    assert {s["id"]: s["state"] for s in listed} == {"knu": "disabled", "auca": "enabled"}
    auca = restarted.state.settings.source("auca")
    assert auca.options["sets"] == ["theses", "articles"] and auca.policy.delay_seconds == 3
    assert auca.policy.timeout_seconds == settings.harvest.timeout_seconds  # the rest as the server's
    # The command line sees the same sources, validated by check-config.
    config = tmp_path / "fedsearch.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "data_dir": str(settings.data_dir),
                "sources": [{"id": "knu", "connector": "oai-pmh", "url": "http://127.0.0.1:9/oai"}],
            }
        )
    )
    assert cli_main(["--config", str(config), "check-config"]) == 0
    # A source the admin keeps that the configuration can no longer accept makes check-config fail, naming it.
    ManagedSources.for_settings(settings).put([{"id": "auca", "connector": "oai-pmh", "url": "ftp://x"}], "test")
    out = subprocess.run(
        [sys.executable, "-m", "fedsearch_app.cli", "--config", str(config), "check-config"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert out.returncode == 2
    assert "sources[1] (id auca).url" in out.stderr and "web admin's sources" in out.stderr


def test_yaml_export_and_import_round_trip(boss):
    exported = boss.get("/admin/export.yaml")
    assert exported.headers["content-disposition"] == 'attachment; filename="fedsearch-sources.yaml"'
    data = yaml.safe_load(exported.text)
    assert data["sources"] == [
        {
            "id": "knu",
            "connector": "oai-pmh",
            "name": {"en": "KNU repository"},
            "schedule": "6h",
            "url": "http://127.0.0.1:9/oai",
        }
    ]
    data["sources"][0]["schedule"] = "1d"
    data["sources"].append({"id": "nlkr", "connector": "sru", "url": "http://catalog.kg/sru", "enabled": False})
    r = boss.http.post(
        "/admin/import",
        data={"csrf": boss.csrf},
        files={"file": ("sources.yaml", yaml.safe_dump(data, allow_unicode=True), "application/yaml")},
        follow_redirects=False,
    )
    assert r.status_code == 303 and "done=imported" in r.headers["location"]
    site = boss.http.app.state.admin
    assert site.source("knu").schedule == "1d" and not site.source("nlkr").enabled
    audit = site.audit.entries(target="knu")
    assert audit[0].action == "source.import" and audit[0].detail["changes"] == {"schedule": ["6h", "1d"]}
    # One bad source: nothing is imported, and the page says what and where.
    r = boss.post(
        "/admin/import",
        {
            "text": "sources:\n- {id: new-one, connector: sru, url: 'http://ok.kg'}\n"
            "- {id: knu, connector: oai-pmh, url: 'gopher://x', metadata_prefx: x}\n"
        },
    )
    assert r.status_code == 400
    assert "sources[1] (knu).url: Must start with http:// or https://." in r.text
    assert "sources[1] (knu).metadata_prefx: This connector has no such option." in r.text
    with pytest.raises(KeyError):
        site.source("new-one")


def harvest(client: AdminClient, source_id: str, mode: str = "incremental"):
    assert client.post(f"/admin/sources/{source_id}/harvest", {"mode": mode}).status_code == 303
    job = client.http.app.state.admin.harvests.wait(source_id, timeout=60)
    assert job is not None and not job.running
    return job


def test_harvest_now_says_and_records_the_mode_it_runs(boss, partner):
    """The page, the audit log, the runs table and the server log agree on full vs incremental (issue 14)."""
    assert (
        boss.post(
            "/admin/sources/knu/edit",
            {"connector": "oai-pmh", "opt.url": partner.url, "enabled": "on", "action": "save"},
        ).status_code
        == 303
    )
    page = boss.get("/admin/sources/knu").text
    assert "Harvest changes (incremental)" not in page and "can only be harvested in full now" in page  # no run yet
    r = boss.post("/admin/sources/knu/harvest", {"mode": "incremental"})  # asked for changes: there is no last run
    assert r.headers["location"].endswith("done=started-full")
    admin = boss.http.app.state.admin
    admin.harvests.wait("knu", timeout=60)
    assert admin.store.last_run("knu").mode == "full"
    assert admin.audit.entries(target="knu")[0].detail == {"mode": "full"}
    page = boss.get("/admin/sources/knu").text
    assert "Harvest changes (incremental)" in page and "can only be harvested in full now" not in page
    r = boss.post("/admin/sources/knu/harvest", {"mode": "incremental"})
    assert r.headers["location"].endswith("done=started-incremental")
    admin.harvests.wait("knu", timeout=60)
    assert admin.store.last_run("knu").mode == "incremental"
    assert admin.audit.entries(target="knu")[0].detail == {"mode": "incremental"}
    ru = boss.get("/admin/sources/knu?done=started-incremental&lang=ru").text
    assert "у партнёра запрашивается то, что изменилось с прошлого сбора (инкрементальный)" in ru


def test_harvest_from_the_admin_then_delete_with_its_records(boss, partner):
    assert (
        boss.post(
            "/admin/sources/knu/edit",
            {"connector": "oai-pmh", "opt.url": partner.url, "enabled": "on", "action": "save"},
        ).status_code
        == 303
    )
    job = harvest(boss, "knu")
    assert job.status == "ok" and job.run.new == 12 and job.index.written == 11 and job.index.quarantined == 1
    progress = boss.get("/admin/api/sources/knu/progress").json()
    assert progress["state"] == "enabled" and progress["counts"] == {
        "live": 12,
        "deleted": 0,
        "quarantined": 1,
        "unindexed": 0,
    }
    assert progress["job"]["status"] == "ok" and progress["job"]["records"] == 12
    settings = boss.http.app.state.settings
    engine = open_engine(settings)
    try:
        assert engine.count_by_source() == {"knu": 11}
        page = boss.get("/admin/sources/knu/delete").text
        assert "11 records from the search index" in page and "12 stored raw records" in page
        assert "Delete the source and its 11 records" in page
        assert boss.post("/admin/sources/knu/delete").headers["location"] == "/admin?done=deleted"
        assert engine.count_by_source() == {}
    finally:
        engine.close()
    site = boss.http.app.state.admin
    assert site.store.counts("knu").live == 0 and site.store.runs("knu") == []
    assert [s.id for s in settings.sources] == []  # also hidden from the YAML file's list
    entry = site.audit.entries(target="knu")[0]
    assert entry.action == "source.delete" and entry.detail["removed_from_index"] == 11


def test_stop_a_running_harvest(boss, partner):
    partner.page_delay = 0.3
    assert (
        boss.post(
            "/admin/sources/knu/edit",
            {"connector": "oai-pmh", "opt.url": partner.url, "enabled": "on", "action": "save"},
        ).status_code
        == 303
    )
    assert boss.post("/admin/sources/knu/harvest", {"mode": "full"}).status_code == 303
    assert boss.post("/admin/sources/knu/harvest", {"mode": "full"}).headers["location"].endswith("done=busy")
    page = boss.get("/admin/sources/knu").text
    assert 'data-running="true"' in page and '<meta http-equiv="refresh" content="5">' in page  # inside <noscript>
    assert boss.post("/admin/sources/knu/stop").headers["location"].endswith("done=stopping")
    job = boss.http.app.state.admin.harvests.wait("knu", timeout=30)
    assert job.status == "stopped" and job.run.records < 12
    assert "Stopped by a user. The next run continues where it stopped." in boss.get("/admin/sources/knu").text


def test_quarantined_records_are_retried_after_the_mapping_is_fixed(tmp_path, boss):
    table = tmp_path / "theses.csv"
    table.write_text(
        "id,Тема,Эскертүү,Жыл\n1,Кыргыз тилинин грамматикасы,,2019\n2,Манас эпосунун поэтикасы,,2020\n",
        encoding="utf-8",
    )
    source = {
        "connector": "tabular",
        "id": "theses",
        "opt.path": str(table),
        "opt.id_column": "id",
        "opt.mapping": "title = Эскертүү\nyear = Жыл",
        "enabled": "on",
        "action": "save",
    }
    assert boss.post("/admin/add-source", source).status_code == 303
    harvest(boss, "theses")
    site = boss.http.app.state.admin
    assert site.store.counts("theses").quarantined == 2  # stored, but no title: quarantined when indexed
    listing = boss.get("/admin/sources/theses/quarantine").text
    assert "The record has no title." in listing
    entry = site.store.quarantined("theses")[0]
    detail = boss.get(f"/admin/sources/theses/quarantine/{entry.id}").text
    assert "trying again reads it with the source's current settings" in detail
    # Fix the mapping, then retry: normalized again from the raw store, no new harvest.
    assert (
        boss.post("/admin/sources/theses/edit", {**source, "opt.mapping": "title = Тема\nyear = Жыл"}).status_code
        == 303
    )
    assert boss.post("/admin/sources/theses/quarantine/retry").headers["location"].endswith("done=retrying")
    job = site.harvests.wait("theses", timeout=30)
    assert job.kind == "reindex" and job.status == "ok" and job.index.written == 2
    assert site.store.counts("theses").quarantined == 0 and len(site.store.runs("theses")) == 1


def test_a_record_that_never_got_stored_is_retried_by_harvesting_again(boss, partner):
    partner.put(13, "Өтө узун аталыш " * 200)  # over this source's max_record_bytes
    source = {
        "connector": "oai-pmh",
        "opt.url": partner.url,
        "enabled": "on",
        "policy.max_record_bytes": "2048",
        "action": "save",
    }
    assert boss.post("/admin/sources/knu/edit", source).status_code == 303
    harvest(boss, "knu")
    site = boss.http.app.state.admin
    big = next(e for e in site.store.quarantined("knu") if e.local_id == "oai:test:13")
    assert "The record is too large" in boss.get(f"/admin/sources/knu/quarantine/{big.id}").text
    assert site.store.get("knu", "oai:test:13") is None
    assert boss.post("/admin/sources/knu/edit", {**source, "policy.max_record_bytes": "1000000"}).status_code == 303
    assert boss.post("/admin/sources/knu/quarantine/retry", {"entry": str(big.id)}).status_code == 303
    job = site.harvests.wait("knu", timeout=30)
    assert job.kind == "harvest" and job.full and job.status == "ok"
    assert site.store.get("knu", "oai:test:13") is not None
    assert [e.local_id for e in site.store.quarantined("knu")] == ["oai:test:12"]  # the untitled one stays


def test_a_harvest_running_in_another_process_shows_its_progress(boss):
    store = boss.http.app.state.admin.store
    run = store.start_run("knu", mode="full", since=None)  # as `fedsearch scheduler` would, page by page
    store.commit_page(run, [], [], {"page": 1}, new_page=True)
    page = boss.get("/admin/sources/knu").text
    assert "Harvesting in another process" in page and 'data-running="true"' in page
    assert "Stop the harvest" not in page and "Full harvest" not in page
    progress = boss.get("/admin/api/sources/knu/progress").json()
    assert progress["state"] == "running" and progress["job"]["elsewhere"] and progress["job"]["pages"] == 1
    store.finish_run(run, "ok")
    page = boss.get("/admin/sources/knu").text
    assert "Harvest changes (incremental)" in page and "Full harvest" in page  # OAI-PMH after a good run


def test_times_are_shown_in_the_configured_zone():
    """Bishkek time by default (UTC+6), configurable; a bad zone is a config error naming the key (issue 14)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from fedsearch.config import ConfigError, validate_settings
    from fedsearch_app.admin.rendering import local_time

    stamp = "2026-11-25T14:03:00+00:00"
    assert validate_settings({}, "<test>").server.timezone == "Asia/Bishkek"
    assert local_time(stamp, ZoneInfo("Asia/Bishkek")) == "2026-11-25 20:03 UTC+6"
    assert local_time(stamp, ZoneInfo("Asia/Kolkata")) == "2026-11-25 19:33 UTC+5:30"
    assert local_time(datetime(2026, 11, 25, 14, 3), UTC) == "2026-11-25 14:03 UTC"
    with pytest.raises(ConfigError, match=r"server.timezone.*unknown time zone 'Mars/Olympus'"):
        validate_settings({"server": {"timezone": "Mars/Olympus"}}, "<test>")


def test_the_runs_table_shows_local_time(boss):
    from datetime import datetime, timedelta, timezone

    store = boss.http.app.state.admin.store
    run = store.start_run("knu", mode="full", since=None)
    store.finish_run(run, "ok")
    started = datetime.fromisoformat(store.last_run("knu").started_at)
    page = boss.get("/admin/sources/knu").text
    local = started.astimezone(timezone(timedelta(hours=6))).strftime("%Y-%m-%d %H:%M") + " UTC+6"
    assert local in page
