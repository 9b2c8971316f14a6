"""The OAI-PMH 2.0 provider at /oai: international aggregators (BASE, CORE, OpenAIRE) harvest our works.

- verbs.py: the six verbs and their arguments;
- formats.py: oai_dc and marcxml from a Record;
- sets.py: set specs (per source, per type, open access) and the filters they mean;
- tokens.py: resumption tokens (a pinned window and a (datestamp, id) cursor);
- errors.py: the protocol's error codes;
- routes.py: the HTTP door (GET and POST).
The lists come from the engine's change feed (fedsearch/engines/changes.py). docs/federation.md.
"""
