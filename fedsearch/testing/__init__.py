"""What a search engine's own tests reuse: the fixture corpus and the conformance suite
(fedsearch/testing/conformance/; docs/engines.md tells how a third-party engine runs it).

Imported by tests only: it needs pytest, which the running site does not.
"""
