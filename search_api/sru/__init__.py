"""The SRU server at /sru (versions 1.2 and 2.0; explain and searchRetrieve) for library systems.

- diagnostics.py: the standard diagnostics (info:srw/diagnostic/1/N) as one exception type;
- cql.py: CQL through cql-parser (PyPI), compiled into our own query plan;
- records.py: a Record as Dublin Core or MARCXML;
- responses.py: the XML of explain, searchRetrieve and diagnostics, in either version;
- routes.py: the /sru route: parameters in, a response out.

docs/federation.md shows a library system how to use it.
"""
