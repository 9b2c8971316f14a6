"""The web UI's tests use the API's fixtures: the whole site over each engine, with the fixture corpus."""

from tests.search_api.conftest import client, engine_setup, live  # noqa: F401 - fixtures, found by name
