"""Connector options as librarians read them: a label and help for each option, translated (ky, ru, en).

The connectors describe their options in English for developers (`fedsearch connectors`); the admin's
forms show these instead. A key is the option's name, or "connector:option" where connectors differ.
An option missing here falls back to its name and English description.
"""

from __future__ import annotations

from web_ui.i18n import N_

# What each connector is for, by connector name.
CONNECTOR_TEXTS: dict[str, str] = {
    "oai-pmh": N_(
        "A repository or journal site that speaks OAI-PMH (DSpace, EPrints, OJS, Zenodo, Dataverse). "
        "Later harvests fetch only what changed."
    ),
    "sru": N_("A library catalogue searched over SRU (Koha, Zebra, IRBIS with an SRU server), in MARC or Dublin Core."),
    "marc-file": N_(
        "MARC files exported from a catalogue (ISO 2709 or MARCXML; MARC 21, UNIMARC, RUSMARC), "
        "on the server or at a web address."
    ),
    "tabular": N_(
        "A table — CSV, TSV, Excel, JSON — such as a register of dissertations, patents or projects, "
        "with its columns matched to record fields."
    ),
}

OPTION_TEXTS: dict[str, tuple[str, str]] = {
    "type": (
        N_("Type of the records"),
        N_(
            "What the records are when their own description doesn't say, e.g. Dissertation for a register of theses. Empty: found from each record."
        ),
    ),
    "marc-file:path": (
        N_("File"),
        N_(
            "Where the MARC file is: a path on the server, several files like exports/*.mrc, or a web address (http or https)."
        ),
    ),
    "tabular:path": (
        N_("Table file"),
        N_(
            "Where the table is: a path on the server, several files like registers/*.xlsx, or a web address (http or https)."
        ),
    ),
    "flavour": (
        N_("MARC format"),
        N_("Which MARC the catalogue writes: MARC 21, UNIMARC or RUSMARC. Exports from IRBIS are RUSMARC."),
    ),
    "marc-file:encoding": (
        N_("Text encoding"),
        N_("How letters are stored in ISO 2709 files (MARCXML says it itself). Old IRBIS exports are cp1251."),
    ),
    "syntax": (N_("File kind"), N_("ISO 2709 or MARCXML; “auto” recognises it from the start of the file.")),
    "id_tag": (
        N_("Field with the record number"),
        N_("The MARC field that holds each record's number in the catalogue, usually 001."),
    ),
    "oai-pmh:url": (
        N_("Repository address (OAI-PMH)"),
        N_(
            "The repository's OAI-PMH address, e.g. https://repository.example.kg/oai/request. The repository's administrator can tell you."
        ),
    ),
    "sru:url": (
        N_("Catalogue address (SRU)"),
        N_("The catalogue's SRU address with its database, e.g. http://catalog.example.kg:9999/biblios."),
    ),
    "metadata_prefix": (
        N_("Metadata format"),
        N_(
            "Which description of the records to ask for: oai_dc (simple), marcxml, datacite… The repository lists what it offers."
        ),
    ),
    "sets": (
        N_("Collections (sets)"),
        N_("Only these collections of the repository, one per line. Empty: the whole repository."),
    ),
    "payload": (
        N_("What to keep"),
        N_(
            "Keep only the description (metadata) or the whole OAI record with its header (record). “metadata” suits almost every partner."
        ),
    ),
    "format": (
        N_("Reading format"),
        N_("How to read what is stored; empty: chosen from the metadata format. Change only on a developer's advice."),
    ),
    "granularity": (
        N_("Date precision"),
        N_(
            "How precisely the repository dates its changes, for harvesting only what changed; “auto” asks the repository."
        ),
    ),
    "max_empty_pages": (
        N_("Empty pages before stopping"),
        N_("Stop when the repository sends this many pages in a row with no records (a fault of some repositories)."),
    ),
    "query": (
        N_("Which records (CQL query)"),
        N_("A search in the catalogue's language (CQL) choosing the records to take; cql.allRecords=1 takes all."),
    ),
    "version": (N_("SRU version"), N_("The SRU version the catalogue speaks; 1.2 suits most.")),
    "record_schema": (N_("Record format"), N_("The format to ask the catalogue for: marcxml (full) or dc (simple).")),
    "page_size": (
        N_("Records per request"),
        N_("How many records to ask for at a time; the catalogue may send fewer."),
    ),
    "id_element": (
        N_("Element with the record number"),
        N_("Only for Dublin Core records without a number of their own: the element holding it, e.g. identifier."),
    ),
    "incremental_query": (
        N_("Query for changes"),
        N_(
            'Added to the query to fetch only what changed, with {since} for the date, e.g. rec.lastModificationDate>="{since}". Empty: every harvest takes everything.'
        ),
    ),
    "file_type": (
        N_("File type"),
        N_("CSV, TSV, Excel (.xlsx), JSON or JSON Lines; “auto” goes by the file name's ending."),
    ),
    "id_column": (
        N_("Column with the record number"),
        N_("The column whose value identifies a row for good, such as the registration or application number."),
    ),
    "mapping": (
        N_("Columns and what they hold"),
        N_(
            "One line per field: what it is, “=”, then the column's name, e.g. title = Тема диссертации, authors = ФИО, year = Год защиты. Several people, subjects or codes in one cell are separated by “;”."
        ),
    ),
    "required": (
        N_("Must not be empty"),
        N_("Fields or columns, one per line, that every row must have; rows without one are set aside for checking."),
    ),
    "sheet": (N_("Worksheet"), N_("Which sheet of an Excel file to read; empty: the first.")),
    "delimiter": (
        N_("Column separator"),
        N_("The character between columns in a CSV file; empty: a comma (a tab for TSV)."),
    ),
    "tabular:encoding": (
        N_("Text encoding"),
        N_("How letters are stored in CSV, TSV or JSON files; cp1251 for old Excel exports."),
    ),
    "header_row": (
        N_("Row with column names"),
        N_("The row number where the column names are (CSV, TSV, Excel); usually 1."),
    ),
}


def option_texts(connector: str, option: str) -> tuple[str, str] | None:
    """(label, help) msgids for a connector's option, or None."""
    return OPTION_TEXTS.get(f"{connector}:{option}") or OPTION_TEXTS.get(option)
