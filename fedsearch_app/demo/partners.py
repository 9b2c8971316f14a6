"""The demo's four sample partners, each speaking its real protocol on 127.0.0.1.

    repository      OAI-PMH (pyoai's server)              oai/records.xml
    library         SRU (Index Data's zebrasrv)           catalogue/records.marcxml
    dissertations   a CSV file over HTTP                  dissertations/register.csv
    patents         a JSON Lines file over HTTP           patents/patents.jsonl

`SamplePartners(corpus_dir, workdir).start()` starts them on free ports (or the
ports asked for, when free), and `.sources()` gives their configuration.
Without Zebra installed, the library is left out with a message saying how to
install it; the other three still run.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from typing import Any

from fedsearch_app.corpus import FILES, SOURCE_IDS
from fedsearch_app.corpus.works import CSV, OAI, PATENTS, SRU
from fedsearch_app.demo.oai import OaiPmhPartner
from fedsearch_app.demo.served import LocalHTTPServer
from fedsearch_app.demo.zebra import INSTALL_HINT, ZebraCatalogue, port_open, zebra_installed

NAMES = {
    OAI: {"ky": "Илимий репозиторий (демо)", "ru": "Научный репозиторий (демо)", "en": "Research repository (demo)"},
    SRU: {"ky": "Китепкана каталогу (демо)", "ru": "Каталог библиотеки (демо)", "en": "Library catalogue (demo)"},
    CSV: {
        "ky": "Диссертациялар реестри (демо)",
        "ru": "Реестр диссертаций (демо)",
        "en": "Dissertation register (demo)",
    },
    PATENTS: {"ky": "Патенттер реестри (демо)", "ru": "Реестр патентов (демо)", "en": "Patent register (demo)"},
}


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class FileServer(LocalHTTPServer):
    """Static files over HTTP (with Last-Modified and If-Modified-Since), from a thread."""

    def __init__(self, root: Path, port: int = 0):
        super().__init__(functools.partial(_QuietFiles, directory=str(root)), port, name="demo-files")

    def url(self, relative: str) -> str:
        return f"http://127.0.0.1:{self.port}/{relative}"


@dataclass
class PartnerInfo:
    key: str
    source_id: str
    protocol: str
    url: str


def _usable(port: int | None) -> int:
    return port if port and not port_open(port) else 0


class SamplePartners:
    """Start and stop the sample partners; `ports` are wishes (kept from the last run when free)."""

    def __init__(
        self,
        corpus_dir: Path,
        workdir: Path,
        ports: dict[str, int] | None = None,
        source_ids: dict[str, str] | None = None,
        say=print,
    ):
        self.corpus = Path(corpus_dir)
        self.workdir = Path(workdir)
        self.ports = ports or {}
        self.ids = {**SOURCE_IDS, **(source_ids or {})}
        self.say = say
        self.oai: OaiPmhPartner | None = None
        self.zebra: ZebraCatalogue | None = None
        self.files: FileServer | None = None
        self.missing: dict[str, str] = {}  # partner key -> why it is not running

    def start(self) -> SamplePartners:
        try:
            self.oai = OaiPmhPartner(self.corpus / FILES[OAI], port=_usable(self.ports.get(OAI))).start()
            if zebra_installed():
                zebra = ZebraCatalogue(
                    self.corpus / FILES[SRU], self.workdir / "zebra", port=_usable(self.ports.get(SRU))
                )
                if zebra.index():
                    self.say("  indexed the catalogue's MARCXML with zebraidx")
                self.zebra = zebra.start()
            else:
                self.missing[SRU] = (
                    f"Zebra's zebrasrv is not installed, so the library catalogue (SRU) is left out; "
                    f"install it with `{INSTALL_HINT}` and run the demo again"
                )
            self.files = FileServer(self.corpus, port=_usable(self.ports.get(CSV))).start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for part in (self.files, self.zebra, self.oai):
            if part is not None:
                try:
                    part.stop()
                except Exception:  # noqa: BLE001, S110 - stop the others whatever happens
                    pass
        self.files = self.zebra = self.oai = None

    def __enter__(self) -> SamplePartners:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def running(self) -> list[PartnerInfo]:
        out = []
        if self.oai:
            out.append(PartnerInfo(OAI, self.ids[OAI], "OAI-PMH (pyoai)", self.oai.url))
        if self.zebra:
            out.append(PartnerInfo(SRU, self.ids[SRU], "SRU (Zebra zebrasrv)", self.zebra.url))
        if self.files:
            out.append(PartnerInfo(CSV, self.ids[CSV], "CSV over HTTP", self.files.url(FILES[CSV])))
            out.append(PartnerInfo(PATENTS, self.ids[PATENTS], "JSON Lines over HTTP", self.files.url(FILES[PATENTS])))
        return out

    def ports_in_use(self) -> list[int]:
        out = []
        if self.oai:
            out.append(self.oai.port)
        if self.zebra:
            out.append(self.zebra.port)
        if self.files:
            out.append(self.files.port)
        return out

    def sources(self) -> list[dict[str, Any]]:
        """The running partners as `sources:` entries of the configuration."""
        out: list[dict[str, Any]] = []
        for p in self.running():
            base = {"id": p.source_id, "name": NAMES[p.key]}
            out.append({**base, **source_options(p.key, p.url)})
        return out


def source_options(partner: str, url: str) -> dict[str, Any]:
    """Connector and options for one partner at `url` (used by the demo and bench/).

    The partners run on 127.0.0.1, so each source opts in to private networks
    (docs/security.md); a real deployment's sources on the internet never need to.
    """
    return {**_options(partner, url), "allow_private_networks": True}


def _options(partner: str, url: str) -> dict[str, Any]:
    if partner == OAI:
        return {
            "connector": "oai-pmh",
            "url": url,
            "metadata_prefix": "oai_dc",
            "institution": "Национальный научный репозиторий",
        }
    if partner == SRU:
        return {
            "connector": "sru",
            "url": url,
            "query": "cql.allRecords=1",
            "record_schema": "marcxml",
            "version": "1.2",
            "page_size": 200,
            "incremental_query": 'rec.lastModificationDate>="{since}"',
            "institution": "Национальная библиотека Кыргызской Республики",
        }
    if partner == CSV:
        return {
            "connector": "tabular",
            "path": url,
            "id_column": "Рег. номер",
            "type": "dissertation",
            "mapping": {
                "title": "Тема диссертации",
                "authors": "ФИО соискателя",
                "year": "Год защиты",
                "date": "Дата защиты",
                "classifications.vak": "Шифр специальности",
                "subjects": "Специальность",
                "institution": "Организация",
                "identifiers.register_number": "Рег. номер",
                "dissertation.degree": "Ученая степень",
                "dissertation.specialty": "Шифр специальности",
                "dissertation.specialty_name": "Специальность",
                "dissertation.defence_date": "Дата защиты",
                "contributors.supervisor": "Научный руководитель",
                "language": "Язык",
                "abstract": "Аннотация",
            },
            "required": ["title", "year"],
        }
    if partner == PATENTS:
        return {
            "connector": "tabular",
            "path": url,
            "id_column": "patent_number",
            "type": "patent",
            "mapping": {
                "title": "title",
                "title_alt": "title_ru",
                "language": "title_lang",
                "identifiers.patent": "patent_number",
                "classifications.ipc": "ipc",
                "authors": "inventors",
                "contributors.applicant": "applicants",
                "year": "year",
                "date": "publication_date",
                "abstract": "abstract",
                "url": "url",
            },
            "required": ["title"],
            "institution": "Кыргызпатент",
        }
    raise KeyError(partner)
