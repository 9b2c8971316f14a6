"""The raw store's tests use the connectors' fixtures: a fresh store, real partner peers, fast backoff."""

from tests.connectors.conftest import fast_backoff, oai_peer, store  # noqa: F401 - fixtures, found by name
