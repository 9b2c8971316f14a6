"""pyoai 2.5's client calls `XPathEvaluator(...).evaluate(xpath)`, which lxml 5.1 removed (the
evaluator is called directly now). This gives its client and metadata modules an lxml whose evaluators have
`evaluate` again; pyoai's own parsing and paging run unchanged."""

from __future__ import annotations

import types
from typing import Any

import oaipmh.client
import oaipmh.metadata
from lxml import etree


def _evaluator(node: Any, **kw: Any) -> Any:
    ev = etree.XPathEvaluator(node, **kw)
    return types.SimpleNamespace(evaluate=ev)


def patch() -> None:
    if not hasattr(etree.XPathElementEvaluator, "evaluate"):
        shim = types.SimpleNamespace(**{n: getattr(etree, n) for n in dir(etree) if not n.startswith("__")})
        shim.XPathEvaluator = _evaluator
        oaipmh.client.etree = shim
        oaipmh.metadata.etree = shim


patch()
