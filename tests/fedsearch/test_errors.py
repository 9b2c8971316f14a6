"""One error model: every error of ours derives from FedsearchError and has a stable code,
the API's problem responses carry it, and the admin translates by it."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

from fedsearch.errors import FedsearchError, error_code

PACKAGES = ["fedsearch", "connectors", "rawstore", "indexers", "search_api", "web_ui", "fedsearch_app"]


def our_exceptions() -> list[type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for name in PACKAGES:
        package = importlib.import_module(name)
        modules = [package] + [
            importlib.import_module(m.name)
            for m in pkgutil.walk_packages(package.__path__, name + ".")
            if ".demo" not in m.name and not m.name.endswith("__main__")
        ]
        for module in modules:
            for _, obj in inspect.getmembers(module, inspect.isclass):
                if (
                    issubclass(obj, Exception)
                    and obj.__module__ == module.__name__
                    and not obj.__name__.startswith("_")
                ):
                    found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return list(found.values())


CONTROL_FLOW = {"LoginRequired", "CsrfRejected", "Forbidden", "NotFound"}  # the admin's redirects, not errors


def test_every_public_exception_of_ours_has_the_one_root_and_a_dotted_code():
    classes = our_exceptions()
    assert len(classes) > 30
    loose = [c.__qualname__ for c in classes if not issubclass(c, FedsearchError) and c.__name__ not in CONTROL_FLOW]
    assert loose == []
    for cls in classes:
        if issubclass(cls, FedsearchError):
            assert cls.error_code == "internal" or "." in cls.error_code, cls


def test_oai_errors_keep_the_repository_s_own_code():
    from connectors.oaipmh import OAI_ERRORS, OaiError

    assert OAI_ERRORS["badResumptionToken"]("expired").error_code == "partner.oai.badResumptionToken"
    assert OaiError("odd", code="somethingNew").error_code == "partner.oai.somethingNew"


def test_the_code_of_an_error_is_found_through_its_causes():
    from connectors.base import HarvestFailed
    from connectors.http import PartnerTimeout

    try:
        try:
            raise PartnerTimeout("knu", "http://x/oai", "the server did not answer")
        except PartnerTimeout:
            raise HarvestFailed("knu", "the harvest had to stop") from None
    except HarvestFailed as err:
        assert error_code(err) == "harvest.failed"
        assert [error_code(e) for e in [err.__context__]] == ["partner.http.timeout"]
    assert error_code(ZeroDivisionError()) == "internal"


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_admin_translates_a_partner_error_by_its_code(lang):
    from connectors.http import PartnerConnectionBroken, PartnerHTTPError
    from fedsearch_app.admin.plain import plain_error
    from web_ui.i18n import current_lang, set_lang

    before = current_lang()
    set_lang(lang)
    try:
        status = plain_error(PartnerHTTPError("knu", "http://x/oai", "whatever the text says", status=404))
        broken = plain_error(PartnerConnectionBroken("knu", "http://repo.example.kg/oai", "anything"))
    finally:
        set_lang(before)
    assert "404" in status.message and "whatever" not in status.message
    assert "repo.example.kg" in broken.message
    if lang == "en":
        assert "broke during the transfer" in broken.message
    else:
        assert "broke" not in broken.message


def test_problem_responses_carry_the_code(tmp_path):
    from fastapi.testclient import TestClient

    from fedsearch.config import validate_settings
    from search_api.app import create_app

    settings = validate_settings({"data_dir": str(tmp_path)})
    with TestClient(create_app(settings)) as client:
        bad = client.get("/api/v1/search", params={"per_page": "many"})
        missing = client.get("/api/v1/nothing-here")
    assert bad.status_code == 400 and bad.json()["code"] == "api.bad_parameter"
    assert missing.status_code == 404 and missing.json()["code"] == "api.not_found"
