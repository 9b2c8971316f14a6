"""The fixture corpus lives in the installed package (fedsearch/testing/corpus.py): a
third-party engine's conformance run reads the same records."""

from fedsearch.testing.corpus import BY_LOCAL, CORPUS, STAMP, rec, rid

__all__ = ["BY_LOCAL", "CORPUS", "STAMP", "rec", "rid"]
