"""Accounts: `fedsearch admin create-user`, argon2 hashes, two roles, managed by admins, all audited."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
import yaml

from fedsearch_app.admin.db import AdminDB
from fedsearch_app.admin.users import AccountError, UserStore, create_user_cli, read_password
from tests.conftest import ROOT
from tests.fedsearch_app.admin.conftest import PASSWORD, AdminClient, http_client


def test_create_user_from_the_command_line_reads_the_password_from_stdin(tmp_path, app, settings):
    config = tmp_path / "fedsearch.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(settings.data_dir)}))
    run = lambda *args, password: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "fedsearch_app.cli", "--config", str(config), "admin", "create-user", *args],
        input=password + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    made = run("Gulnara", "--role", "admin", password="Бишкек-2026-пароль")
    assert made.returncode == 0, made.stderr
    assert "created the admin account 'gulnara'" in made.stdout
    stored = (
        AdminDB.for_data_dir(settings.data_dir)
        .conn()
        .execute("SELECT password_hash FROM users WHERE username = 'gulnara'")
        .fetchone()[0]
    )
    assert stored.startswith("$argon2id$") and "Бишкек" not in stored
    assert AdminClient(http_client(app)).login("gulnara", "Бишкек-2026-пароль").status_code == 303
    again = run("gulnara", password="another-password-1")
    assert again.returncode == 1 and "already an account named 'gulnara'" in again.stderr
    short = run("nurlan", password="short")
    assert short.returncode == 1 and "at least 10 characters" in short.stderr
    audit = app.state.admin.audit.entries(target="gulnara")
    assert [(e.actor, e.action) for e in audit] == [("command line", "user.create")]


def test_on_a_terminal_the_password_is_asked_twice(monkeypatch):
    answers = iter(["first-password-1", "second-password-2"])
    monkeypatch.setattr("getpass.getpass", lambda prompt, stream=None: next(answers))

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    with pytest.raises(AccountError, match="not the same"):
        read_password(Terminal(), io.StringIO())
    monkeypatch.setattr("getpass.getpass", lambda prompt, stream=None: "same-password-1")
    assert read_password(Terminal(), io.StringIO()) == "same-password-1"


def test_create_user_cli_refuses_a_bad_name(settings, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert create_user_cli(settings, "Bad Name!", "librarian") == 1
    assert "a username has 2 to 63 characters" in capsys.readouterr().err


def test_admins_manage_accounts_and_every_change_is_audited(app, boss):
    r = boss.post("/admin/users", {"username": "Nurlan", "role": "librarian", "password": PASSWORD, "again": PASSWORD})
    assert r.headers["location"] == "/admin/users?done=user-created"
    nurlan = AdminClient(http_client(app))
    assert nurlan.login("nurlan").status_code == 303
    assert boss.post("/admin/users/nurlan/role", {"role": "admin"}).status_code == 303
    assert nurlan.get("/admin/users").status_code == 200  # the role applies to the open session at once
    assert boss.post("/admin/users/nurlan/password", {"password": "new-password-123"}).status_code == 303
    assert nurlan.get("/admin", follow_redirects=False).status_code == 303  # a new password ends sessions
    assert AdminClient(http_client(app)).login("nurlan", "new-password-123").status_code == 303
    bad = boss.post("/admin/users", {"username": "x", "role": "admin", "password": PASSWORD, "again": PASSWORD})
    assert bad.status_code == 400 and "A username has 2 to 63 characters" in bad.text
    assert "You can&#39;t delete your own account." in boss.post("/admin/users/boss/delete").text
    assert boss.post("/admin/users/nurlan/delete").status_code == 303
    assert boss.post("/admin/users/aigul/role", {"role": "admin"}).status_code == 303
    assert boss.post("/admin/users/aigul/role", {"role": "librarian"}).status_code == 303
    store = UserStore(app.state.admin.db)
    assert [(u.username, u.role) for u in store.all()] == [("aigul", "librarian"), ("boss", "admin")]
    with pytest.raises(AccountError, match="last admin"):
        store.set_role("boss", "librarian")
    log = boss.get("/admin/audit").text
    for words in ("created an account", "changed a role", "set a password", "deleted an account"):
        assert words in log
    entries = app.state.admin.audit.entries(target="nurlan")
    assert [(e.actor, e.action) for e in entries] == [
        ("boss", "user.delete"),
        ("boss", "user.password"),
        ("boss", "user.role"),
        ("boss", "user.create"),
    ]
    assert entries[2].detail == {"changes": {"role": ["librarian", "admin"]}}


def test_changing_my_own_password(app, librarian):
    r = librarian.post("/admin/account/password", {"current": "wrong", "new": "x" * 12, "again": "x" * 12})
    assert r.status_code == 400 and "The current password is not right." in r.text
    r = librarian.post("/admin/account/password", {"current": PASSWORD, "new": "x" * 12, "again": "y" * 12})
    assert "The two new passwords are not the same." in r.text
    r = librarian.post(
        "/admin/account/password", {"current": PASSWORD, "new": "новый-пароль-1", "again": "новый-пароль-1"}
    )
    assert r.headers["location"] == "/admin/account?done=password"
    assert librarian.get("/admin/account").status_code == 200  # still logged in, with a fresh session
    assert AdminClient(http_client(app)).login("aigul", "новый-пароль-1").status_code == 303


def test_source_changes_are_audited_with_what_changed(app, boss, librarian):
    assert (
        librarian.post(
            "/admin/sources/knu/edit",
            {
                "connector": "oai-pmh",
                "opt.url": "http://127.0.0.1:9/oai",
                "schedule": "1d",
                "enabled": "on",
                "name.en": "KNU repository",
                "action": "save",
            },
        ).status_code
        == 303
    )
    assert librarian.post("/admin/sources/knu/disable").status_code == 303
    entries = app.state.admin.audit.entries(target="knu")
    assert [(e.actor, e.action) for e in entries] == [("aigul", "source.disable"), ("aigul", "source.update")]
    assert entries[1].detail["changes"] == {"schedule": ["6h", "1d"]}
    assert entries[0].detail["changes"] == {"enabled": [None, False]}
    page = boss.get("/admin/audit").text
    assert "changed a source" in page and "6h → 1d" in page


def test_create_user_finds_the_demo_configuration_and_says_which_data_dir(tmp_path, settings):
    """README's command, run next to `fedsearch demo`, reaches the demo's data_dir (issue 14)."""
    import os

    from fedsearch.config import load_config
    from fedsearch_app.app import create_app
    from fedsearch_app.demo import write_config

    workdir = tmp_path / "clone"
    demo_dir = workdir / "demo-data"
    demo_dir.mkdir(parents=True)
    demo = write_config(demo_dir.resolve(), [], "embedded", 8000)  # what `fedsearch demo` writes
    env = {k: v for k, v in os.environ.items() if k != "FEDSEARCH_CONFIG"}

    def run(*args: str, env: dict[str, str] = env) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "fedsearch_app.cli", *args],
            input="Бишкек-2026-пароль\n",
            capture_output=True,
            text=True,
            cwd=workdir,
            env=env,
        )

    made = run("admin", "create-user", "gulnara", "--role", "admin")
    assert made.returncode == 0, made.stderr
    assert f"data_dir {demo.data_dir}" in made.stdout and str(demo.config_path) in made.stdout
    assert not (workdir / "data").exists()  # nothing written next to the current folder
    server = create_app(load_config(demo.config_path))
    assert AdminClient(http_client(server)).login("gulnara", "Бишкек-2026-пароль").status_code == 303
    # FEDSEARCH_CONFIG still wins over the demo's file.
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump({"data_dir": str(settings.data_dir)}))
    made = run("admin", "create-user", "nurlan", env={**env, "FEDSEARCH_CONFIG": str(other)})
    assert made.returncode == 0 and f"data_dir {settings.data_dir}" in made.stdout
    assert UserStore(AdminDB.for_data_dir(settings.data_dir)).get("nurlan") is not None


def test_the_empty_login_page_names_this_servers_configuration(tmp_path):
    from fedsearch.config import load_config
    from fedsearch_app.app import create_app

    config = tmp_path / "site.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "data")}))
    html = http_client(create_app(load_config(config))).get("/admin/login").text
    assert f"<code>fedsearch --config {config} admin create-user NAME --role admin</code>" in html
