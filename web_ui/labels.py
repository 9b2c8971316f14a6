"""Display labels for controlled values (record types, access, facets, sort orders).

The strings are msgids, translated where they are shown (see i18n.gettext_).
"""

from __future__ import annotations

from web_ui.i18n import N_, gettext_, language_name

TYPE_LABELS = {
    "article": N_("Article"),
    "book": N_("Book"),
    "chapter": N_("Book chapter"),
    "thesis": N_("Thesis"),
    "dissertation": N_("Dissertation"),
    "patent": N_("Patent"),
    "dataset": N_("Dataset"),
    "report": N_("Report"),
    "conference_paper": N_("Conference paper"),
    "project": N_("Research project"),
    "other": N_("Other"),
}

ACCESS_LABELS = {
    "open": N_("Open access"),
    "free": N_("Free to read"),
    "restricted": N_("Restricted access"),
    "unknown": N_("Access unknown"),
}

FACET_LABELS = {
    "type": N_("Type"),
    "access": N_("Access"),
    "language": N_("Language"),
    "source": N_("Source"),
    "subject": N_("Subject"),
    "institution": N_("Institution"),
    "year": N_("Year"),
}

SORT_LABELS = {
    "relevance": N_("Relevance"),
    "newest": N_("Newest first"),
    "oldest": N_("Oldest first"),
    "title": N_("Title A–Z"),
}

# Contributor roles (indexers/vocab.py ROLES); an unknown role is shown as catalogued.
ROLE_LABELS = {
    "editor": N_("editor"),
    "translator": N_("translator"),
    "supervisor": N_("scientific supervisor"),
    "opponent": N_("official opponent"),
    "compiler": N_("compiler"),
    "illustrator": N_("illustrator"),
    "contributor": N_("contributor"),
    "reviewer": N_("reviewer"),
    "inventor": N_("inventor"),
    "applicant": N_("patent holder"),
    "project leader": N_("project leader"),
    "contact": N_("contact person"),
    "data curator": N_("data curator"),
}

# Classification schemes (Record.classifications), as each UI language abbreviates them.
SCHEME_LABELS = {
    "udc": N_("UDC"),
    "grnti": N_("GRNTI"),
    "ipc": N_("IPC"),
    "bbk": N_("BBK"),
    "ddc": N_("DDC"),
    "lcc": N_("LCC"),
    "vak": N_("VAK specialty code"),
    "other": N_("Classification"),
}

# Reference styles on the record page.
STYLE_LABELS = {"gost": N_("GOST R 7.0.100"), "apa": N_("APA style")}

LINK_LABELS = {"fulltext": N_("Full text"), "landing": N_("Record at the source"), "other": N_("Link")}

# Why a work was merged from several records (Record.match.rule); %(value)s is the shared identifier.
MATCH_LABELS = {
    "doi": N_("same DOI %(value)s"),
    "isbn": N_("same ISBN %(value)s"),
    "handle": N_("same handle %(value)s"),
    "patent": N_("same patent number %(value)s"),
    "register": N_("same register number %(value)s"),
    "title": N_("same title, first author and year"),
    "manual": N_("joined by a librarian"),
}


def value_label(facet: str, value: str, *, ui_lang: str, source_names: dict[str, str]) -> str:
    """How a facet value is shown: translated for controlled vocabularies, names for codes."""
    if facet == "type":
        return gettext_(TYPE_LABELS.get(value, value))
    if facet == "access":
        return gettext_(ACCESS_LABELS.get(value, value))
    if facet == "language":
        return language_name(value, ui_lang)
    if facet == "source":
        return source_names.get(value, value)
    return value
