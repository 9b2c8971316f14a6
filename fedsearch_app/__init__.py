"""The composition layer: puts the layers together into programs.

Here live what uses every layer at once: the web application (API + web UI + admin,
`fedsearch_app.app`), the `fedsearch` command (`cli`), the harvest scheduler, the
librarians' admin, backups, and the demo with its generated sample corpus.
Nothing below imports from here (checked by import-linter, see docs/architecture.md).
"""
