"""The admin reaches no files outside the import folders and no private addresses (issue 12).

Through the admin's real HTTP routes, as a librarian: a tabular source pointed at
/etc/passwd or at the session key, tested and saved; an OAI-PMH source pointed at
a server on 127.0.0.1 that counts the requests it gets.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fedsearch_app.admin.sessions import SECRET_FILE
from fedsearch_app.app import create_app
from tests.connectors.peers import LocalHTTPServer, Reply
from tests.fedsearch_app.admin.conftest import AdminClient, add_user, admin_settings, http_client


@pytest.fixture
def strict(tmp_path: Path):
    """The default reach: files only in data_dir/imports, no private addresses."""
    settings = admin_settings(tmp_path / "data", reach={})
    add_user(settings, "boss", "admin")
    add_user(settings, "aigul", "librarian")
    (settings.data_dir / "imports").mkdir(parents=True)
    return settings


def login(settings, username: str) -> AdminClient:
    client = AdminClient(http_client(create_app(settings)))
    assert client.login(username).status_code == 303
    return client


def table(client: AdminClient, path: str, action: str, **extra: str):
    return client.post(
        "/admin/add-source",
        {
            "connector": "tabular",
            "id": "leak",
            "opt.path": path,
            "opt.delimiter": ":",
            "opt.id_column": "nope",
            "opt.mapping": "title = root",
            "enabled": "on",
            "action": action,
            **extra,
        },
    )


@pytest.mark.parametrize("action", ["test", "save"])
def test_etc_passwd_is_refused_and_never_shown(strict, action):
    librarian = login(strict, "aigul")
    r = table(librarian, "/etc/passwd", action)
    assert r.status_code == 400
    assert "outside the import folders" in r.text
    assert "root:x:0" not in r.text and "/bin/" not in r.text
    assert librarian.get("/admin/sources/leak").status_code == 404  # nothing saved


@pytest.mark.parametrize("spec", ["{data}/secret_key", "{data}/imports/../secret_key", "imports/../../secret_key"])
def test_the_session_key_is_never_quoted(strict, spec):
    librarian = login(strict, "aigul")
    key = (strict.data_dir / SECRET_FILE).read_text().strip()
    assert key
    r = table(librarian, spec.format(data=strict.data_dir), "test")
    assert r.status_code == 400 and "outside the import folders" in r.text
    assert key not in r.text


def test_a_symlink_out_of_the_import_folder_is_refused(strict):
    os.symlink("/etc/passwd", strict.data_dir / "imports" / "innocent.csv")
    r = table(login(strict, "aigul"), "innocent.csv", "test")
    assert r.status_code == 400 and "outside the import folders" in r.text and "root:x:0" not in r.text


def test_a_table_in_the_import_folder_is_previewed(strict):
    (strict.data_dir / "imports" / "theses.csv").write_text("id:Тема\n1:Манас эпосу\n", encoding="utf-8")
    r = login(strict, "aigul").post(
        "/admin/add-source",
        {
            "connector": "tabular",
            "id": "theses",
            "opt.path": "theses.csv",
            "opt.delimiter": ":",
            "opt.id_column": "id",
            "opt.mapping": "title = Тема",
            "enabled": "on",
            "action": "test",
        },
    )
    assert r.status_code == 200, r.text
    assert "Манас эпосу" in r.text


def counting_server():
    seen: list[str] = []

    def reply(request):
        seen.append(request.path)
        return Reply(body=b"<html>internal admin panel</html>")

    return LocalHTTPServer(reply), seen


def oai(client: AdminClient, url: str, action: str = "test", **extra: str):
    return client.post(
        "/admin/add-source",
        {"connector": "oai-pmh", "id": "inside", "opt.url": url, "enabled": "on", "action": action, **extra},
    )


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "2130706433"])
def test_loopback_urls_are_refused_before_any_request(strict, host):
    server, seen = counting_server()
    with server:
        port = server.url.rsplit(":", 1)[1].split("/")[0]
        for action in ("test", "save"):
            r = oai(login(strict, "aigul"), f"http://{host}:{port}/oai", action)
            assert r.status_code == 400, r.text
            assert "private networks is off for this source" in r.text
            assert "internal admin panel" not in r.text
    assert seen == []


def test_only_an_admin_may_allow_private_networks(strict):
    server, seen = counting_server()
    with server:
        r = oai(login(strict, "aigul"), server.url + "/oai", allow_private_networks="on")
        assert r.status_code == 400 and "Only an admin can change this." in r.text
        assert seen == []
        r = oai(login(strict, "boss"), server.url + "/oai", allow_private_networks="on")
        assert seen, "the admin's opt-in lets the source reach the local partner"
        assert r.status_code == 200
    # A librarian importing YAML can't opt in either.
    librarian = login(strict, "aigul")
    r = librarian.post(
        "/admin/import",
        {
            "text": "sources:\n- id: inside\n  connector: oai-pmh\n"
            "  url: http://127.0.0.1:9/oai\n  allow_private_networks: true\n"
        },
    )
    assert r.status_code == 400 and "Only an admin can change this." in r.text


def test_an_imported_source_is_held_to_the_same_reach(strict):
    r = login(strict, "boss").post(
        "/admin/import",
        {
            "text": (
                "sources:\n- id: leak\n  connector: tabular\n  path: /etc/passwd\n  id_column: root\n"
                "- id: inside\n  connector: oai-pmh\n  url: http://127.0.0.1:9/oai\n"
            )
        },
    )
    assert r.status_code == 400
    assert "leak.path: the path &#39;/etc/passwd&#39; is outside the import folders" in r.text
    assert "inside.url: " in r.text and "private networks is off" in r.text
    assert login(strict, "boss").get("/admin/sources/leak").status_code == 404
