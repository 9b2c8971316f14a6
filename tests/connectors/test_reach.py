"""connectors/reach.py through the connectors: files only in the import folders, no private addresses."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from connectors import reach
from connectors.http import PartnerRefused, PoliteClient
from fedsearch.config import HarvestPolicy, Reach, validate_settings
from rawstore.harvest import harvest_source
from tests.connectors.conftest import FAST_POLICY
from tests.connectors.peers import LocalHTTPServer, Reply


def strict_settings(data_dir: Path, *sources: dict) -> object:
    """The default reach: data_dir/imports, no private networks."""
    return validate_settings({"data_dir": str(data_dir), "harvest": FAST_POLICY, "sources": list(sources)})


def passwd_source(path: str, connector: str = "tabular") -> dict:
    if connector == "tabular":
        return {
            "id": "leak",
            "connector": "tabular",
            "path": path,
            "delimiter": ":",
            "id_column": "root",
            "file_type": "csv",
        }
    return {"id": "leak", "connector": "marc-file", "path": path}


@pytest.mark.parametrize("connector", ["tabular", "marc-file"])
@pytest.mark.parametrize("spec", ["/etc/passwd", "/etc/pass*", "{data}/imports/../secret_key", "../secret_key"])
def test_files_outside_the_import_folders_are_never_read(tmp_path, store, connector, spec):
    data = tmp_path / "data"
    (data / "imports").mkdir(parents=True)
    (data / "secret_key").write_text("s3cr3t-signing-key")
    settings = strict_settings(data, passwd_source(spec.format(data=data), connector))
    run = harvest_source(settings, "leak", store)
    assert run.status == "failed" and "outside the import folders" in run.error
    assert "root:x" not in run.error and "s3cr3t" not in run.error
    assert list(store.iter_all("leak")) == [] and store.quarantined("leak") == []


def test_a_glob_match_that_is_a_symlink_out_is_refused(tmp_path, store):
    imports = tmp_path / "data" / "imports"
    imports.mkdir(parents=True)
    (imports / "a.csv").write_text("root\n1\n")
    os.symlink("/etc/passwd", imports / "b.csv")
    run = harvest_source(strict_settings(tmp_path / "data", passwd_source("*.csv")), "leak", store)
    assert run.status == "failed" and "b.csv" in run.error and "outside the import folders" in run.error
    assert "root:x" not in run.error


def test_relative_paths_and_globs_start_at_the_import_folder(tmp_path, store):
    imports = tmp_path / "data" / "imports" / "registers"
    imports.mkdir(parents=True)
    (imports / "a.csv").write_text("root:title\n1:Манас\n")
    (imports / "b.csv").write_text("root:title\n2:Семетей\n")
    run = harvest_source(strict_settings(tmp_path / "data", passwd_source("registers/*.csv")), "leak", store)
    assert run.ok, run.error
    assert {r.local_id for r in store.iter_all("leak")} == {"1", "2"}


def test_a_url_on_loopback_is_refused_before_connecting(tmp_path, store):
    seen = []
    with LocalHTTPServer(lambda req: seen.append(req.path) or Reply(body=b"root:x:0:0\n")) as server:
        settings = strict_settings(tmp_path, passwd_source(server.url + "/passwd.csv"))
        run = harvest_source(settings, "leak", store)
        assert run.status == "failed" and "private networks is off" in run.error
        assert seen == [] and list(store.iter_all("leak")) == []
        # The source opts in: the same URL is fetched.
        allowed = strict_settings(
            tmp_path, {**passwd_source(server.url + "/passwd.csv"), "allow_private_networks": True}
        )
        run = harvest_source(allowed, "leak", store)
        assert seen == ["/passwd.csv"] and run.ok


def test_the_guard_checks_the_dialled_address_too(tmp_path):
    """DNS rebinding: the hostname check passed earlier, the connection goes to loopback anyway."""
    with LocalHTTPServer(lambda req: Reply(body=b"inside")) as server:
        client = httpx.Client(transport=reach.guarded_transport(Reach()))
        with pytest.raises(reach.ReachRefused, match="loopback, link-local or private"):
            client.get(server.url.replace("127.0.0.1", "localhost"))
        client.close()


def test_redirects_to_a_private_address_are_refused():
    """A partner we may reach redirects to one we may not: the second hop is refused, never fetched."""
    seen = []
    with LocalHTTPServer(lambda req: seen.append(req.path) or Reply(body=b"secret")) as inside:

        def redirect(req):
            return Reply(status=302, headers={"Location": inside.url + "/latest/meta-data/"})

        with LocalHTTPServer(redirect) as outside:
            # The first hop is allowed by a transport without the guard; the hook still checks every hop.
            policy = HarvestPolicy(**FAST_POLICY)
            with PoliteClient("repo", policy, transport=httpx.HTTPTransport()) as http:
                http._client.event_hooks["request"] = [
                    lambda request: (
                        None
                        if request.url.port == httpx.URL(outside.url).port
                        else reach.check_url(request.url, policy.reach)
                    )
                ]
                with pytest.raises(PartnerRefused, match="private networks is off"):
                    http.get(outside.url + "/oai", what="Identify")
    assert seen == []


@pytest.mark.parametrize(
    "ip,public",
    [
        ("8.8.8.8", True),
        ("2a00:1450:4001::1", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("::1", False),
        ("fe80::1", False),
        ("fd00::1", False),
        ("::ffff:127.0.0.1", False),
        ("224.0.0.1", False),
    ],
)
def test_public_addresses(ip, public):
    assert reach.public_address(ip) is public


def test_only_http_and_https():
    for url in ("file:///etc/passwd", "gopher://example.org/", "ftp://example.org/x.csv"):
        with pytest.raises(reach.ReachRefused, match="only http and https"):
            reach.check_url(url, Reach(allow_private_networks=True))
