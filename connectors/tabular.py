"""Tables: registers kept in spreadsheets (CSV/TSV, .xlsx, JSON arrays, JSON Lines).

Dissertation and patent registers, donors' project lists: one row, one
record. `id_column` identifies a row; `mapping` says which column holds which
record field (the normalizer applies it, indexers/normalize/tabular.py);
`required` fields must not be empty. A row that can't be used is quarantined
with its row number and the reason, and the rest is read. A file that looks cut
off (a last row short of columns without a line end, JSON that stops early, a
count in the file disagreeing with its rows) ends the run 'incomplete'. The payload is the
row as a JSON object, column -> value (UTF-8, sorted keys; Excel's 2019.0
becomes 2019, dates become ISO 8601). Each run reads the whole table: rows
that disappear become deletions.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from connectors.base import (
    Connector,
    ConnectorOptions,
    HarvestFailed,
    HarvestIncomplete,
    HarvestItem,
    Quarantine,
    RawRecord,
)
from connectors.files import InputFile, harvest_files

log = logging.getLogger("fedsearch.harvest.tabular")

# Keys under which a JSON file may say how many rows it holds; the rows that arrived must agree.
COUNT_KEYS = ("total", "count", "total_count", "totalCount", "totalResults", "numberOfRecords")

SUFFIXES = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}


class TabularOptions(ConnectorOptions):
    path: Annotated[
        str, Field(min_length=1, description=("The table: a path, a glob like registers/*.xlsx, or an http(s) URL"))
    ]
    file_type: Annotated[
        Literal["auto", "csv", "tsv", "xlsx", "json", "jsonl"],
        Field(description=("File type; auto goes by the file name's ending")),
    ] = "auto"
    id_column: Annotated[
        str,
        Field(
            min_length=1,
            description=("Column whose value identifies a row at the partner (a register or application number)"),
        ),
    ]
    mapping: Annotated[
        dict[str, str],
        Field(
            description=(
                "Record field -> column, e.g. {title: Тема диссертации, authors: ФИО, year: Год защиты}; "
                "people, subjects and codes in one cell are separated by ;"
            )
        ),
    ] = {}
    required: Annotated[
        list[str],
        Field(
            description=(
                "Record fields (keys of mapping) or columns that must not be empty; rows missing one are quarantined"
            )
        ),
    ] = []
    sheet: Annotated[str | None, Field(description="Worksheet to read in an .xlsx file; default the first")] = None
    delimiter: Annotated[
        str | None, Field(min_length=1, max_length=1, description=("CSV delimiter; default , for csv and tab for tsv"))
    ] = None
    encoding: Annotated[
        str, Field(description=("Text encoding of CSV/TSV/JSON files; cp1251 for old Excel exports"))
    ] = "utf-8-sig"
    header_row: Annotated[
        int, Field(ge=1, le=1000, description=("Row number holding the column names (CSV, TSV, xlsx)"))
    ] = 1

    @model_validator(mode="after")
    def _mapping_names_columns(self) -> TabularOptions:
        for key, column in self.mapping.items():
            if not column.strip():
                raise ValueError(f"mapping.{key} names no column")
        return self


def _clean(value: Any) -> Any:
    """JSON-ready, trimmed; '' and whitespace become None; 2019.0 from Excel becomes 2019."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (datetime, date, time)):
        if isinstance(value, datetime) and value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, (list, dict)):
        return value
    return str(value)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _id_text(value: Any) -> str | None:
    if _empty(value):
        return None
    if isinstance(value, (dict, list)):
        return None
    return str(value).strip() or None


class TabularConnector(Connector):
    name = "tabular"
    Options = TabularOptions
    description = "Tables (CSV, TSV, .xlsx, JSON, JSON Lines) with a column mapping: registers and project lists"
    options: TabularOptions

    @property
    def incremental(self) -> bool:
        return False

    def harvest(self, *, since: datetime | None, checkpoint: dict[str, Any] | None) -> Iterator[HarvestItem]:
        return harvest_files(self, self.options.path, checkpoint, self._read)

    def _read(self, file: InputFile) -> Iterator[RawRecord | Quarantine]:
        seen: dict[str, str] = {}  # id -> the row that used it, for this file
        for label, row in self._rows(file):
            yield self._item(file, label, row, seen)

    # -- reading -------------------------------------------------------------

    def _type(self, file: InputFile) -> str:
        if self.options.file_type != "auto":
            return self.options.file_type
        for name in (file.name, str(file.path)):
            kind = SUFFIXES.get(Path(name.split("?", 1)[0]).suffix.lower())
            if kind:
                return kind
        raise HarvestFailed(self.source.id, f"can't tell the type of {file.name} from its name; set file_type")

    def _rows(self, file: InputFile) -> Iterator[tuple[str, dict[str, Any] | Quarantine]]:
        kind = self._type(file)
        if kind in ("csv", "tsv"):
            return self._csv(file, "\t" if kind == "tsv" else ",")
        if kind == "xlsx":
            return self._xlsx(file)
        if kind == "json":
            return self._json(file)
        return self._jsonl(file)

    def _text(self, file: InputFile) -> str:
        data = file.path.read_bytes()
        try:
            return data.decode(self.options.encoding)
        except UnicodeDecodeError as err:
            raise HarvestFailed(
                self.source.id,
                (
                    f"{file.name} is not {self.options.encoding} text (byte {err.start}); set the encoding option "
                    "(cp1251 for old Excel exports)"
                ),
            ) from None
        except LookupError:
            raise HarvestFailed(self.source.id, f"unknown encoding {self.options.encoding!r}") from None

    def _check_columns(self, file: InputFile, columns: list[str]) -> None:
        wanted = [self.options.id_column, *self.options.mapping.values()]
        missing = [c for c in dict.fromkeys(wanted) if c not in columns]
        if missing:
            raise HarvestFailed(
                self.source.id,
                (
                    f"{file.name} has no column {', '.join(repr(c) for c in missing)}; its columns are: "
                    f"{', '.join(repr(c) for c in columns if c) or 'none'}"
                ),
            )

    def _csv(self, file: InputFile, default_delimiter: str) -> Iterator[tuple[str, dict[str, Any]]]:
        text = self._text(file)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=self.options.delimiter or default_delimiter)
        header: list[str] | None = None
        pending: tuple[int, list[str]] | None = None  # held back one row: the last may be cut off
        for row in reader:
            line = reader.line_num
            if header is None:
                if line < self.options.header_row:
                    continue
                header = [h.strip() for h in row]
                self._check_columns(file, header)
                continue
            if not any(cell.strip() for cell in row):
                continue
            if pending is not None:
                yield f"row {pending[0]}", {h: _clean(v) for h, v in zip(header, pending[1]) if h}
            pending = (line, row)
        if header is None:
            raise HarvestFailed(self.source.id, f"{file.name} has no header row (row {self.options.header_row})")
        if pending is not None:
            if not text.endswith(("\n", "\r")) and len(pending[1]) < len(header):
                raise self._cut(
                    file, f"its last row ({pending[0]}) has {len(pending[1])} of {len(header)} columns and no line end"
                )
            yield f"row {pending[0]}", {h: _clean(v) for h, v in zip(header, pending[1]) if h}

    def _xlsx(self, file: InputFile) -> Iterator[tuple[str, dict[str, Any]]]:
        import openpyxl

        try:
            book = openpyxl.load_workbook(file.path, read_only=True, data_only=True)
        except Exception as err:  # noqa: BLE001 - zipfile, xml and openpyxl errors alike
            raise HarvestFailed(self.source.id, f"{file.name} is not a readable .xlsx file: {err}") from None
        try:
            if self.options.sheet:
                if self.options.sheet not in book.sheetnames:
                    raise HarvestFailed(
                        self.source.id,
                        (f"{file.name} has no sheet {self.options.sheet!r}; its sheets: {', '.join(book.sheetnames)}"),
                    )
                sheet = book[self.options.sheet]
            else:
                sheet = book.worksheets[0]
            header: list[str] | None = None
            for number, row in enumerate(sheet.iter_rows(values_only=True), 1):
                if header is None:
                    if number < self.options.header_row:
                        continue
                    header = [str(h).strip() if h is not None else "" for h in row]
                    self._check_columns(file, header)
                    continue
                if all(_empty(_clean(v)) for v in row):
                    continue
                yield f"row {number}", {h: _clean(v) for h, v in zip(header, row) if h}
            if header is None:
                raise HarvestFailed(self.source.id, f"{file.name} has no header row (row {self.options.header_row})")
        finally:
            book.close()

    def _json(self, file: InputFile) -> Iterator[tuple[str, dict[str, Any] | Quarantine]]:
        text = self._text(file)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            if err.pos >= len(text.rstrip()) or not text.rstrip().endswith(("]", "}")):
                raise self._cut(file, f"the JSON stops before it is complete ({err.msg})") from None
            raise HarvestFailed(self.source.id, f"{file.name} is not valid JSON: {err}") from None
        if isinstance(data, dict):  # {"items": [...]} and the like: the one list inside
            lists = [v for v in data.values() if isinstance(v, list)]
            if len(lists) == 1:
                counts = {k: data[k] for k in COUNT_KEYS if isinstance(data.get(k), int)}
                for key, count in counts.items():
                    if count != len(lists[0]):
                        raise self._cut(file, f"it says {key}: {count} but holds {len(lists[0])} rows")
                data = lists[0]
        if not isinstance(data, list):
            raise HarvestFailed(self.source.id, f"{file.name} must hold a JSON array of objects (one per row)")
        for number, row in enumerate(data, 1):
            if not isinstance(row, dict):
                yield (
                    f"item {number}",
                    Quarantine(
                        reason=f"item {number} is not a JSON object",
                        code="record.not_json",
                        payload=json.dumps(row, ensure_ascii=False).encode("utf-8"),
                        location=f"file {file.name} item {number}",
                    ),
                )
                continue
            yield f"item {number}", {str(k).strip(): _clean(v) for k, v in row.items()}

    def _jsonl(self, file: InputFile) -> Iterator[tuple[str, dict[str, Any] | Quarantine]]:
        text = self._text(file)
        lines = text.splitlines()
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            location = f"file {file.name} line {number}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                if number == len(lines) and not text.endswith(("\n", "\r")):
                    raise self._cut(
                        file, f"its last line ({number}) is not complete JSON and has no line end"
                    ) from None
                yield (
                    f"line {number}",
                    Quarantine(
                        reason=f"line {number} is not valid JSON: {err.msg}",
                        code="record.not_json",
                        payload=line.encode("utf-8"),
                        location=location,
                    ),
                )
                continue
            if not isinstance(row, dict):
                yield (
                    f"line {number}",
                    Quarantine(
                        code="record.not_json",
                        reason=f"line {number} is not a JSON object",
                        payload=line.encode("utf-8"),
                        location=location,
                    ),
                )
                continue
            yield f"line {number}", {str(k).strip(): _clean(v) for k, v in row.items()}

    def _cut(self, file: InputFile, why: str) -> HarvestIncomplete:
        return HarvestIncomplete(self.source.id, (f"{file.name} looks cut off: {why}"))

    # -- one row -------------------------------------------------------------

    def _item(
        self, file: InputFile, label: str, row: dict[str, Any] | Quarantine, seen: dict[str, str]
    ) -> RawRecord | Quarantine:
        if isinstance(row, Quarantine):
            return row
        location = f"file {file.name} {label}"
        payload = json.dumps(row, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8")
        local_id = _id_text(row.get(self.options.id_column))
        if local_id is None:
            return Quarantine(
                code="record.no_identifier",
                reason=f"{label}: the id column {self.options.id_column!r} is empty",
                payload=payload,
                location=location,
            )
        if local_id in seen:
            return Quarantine(
                reason=f"{label}: id {local_id!r} was already used by {seen[local_id]}",
                code="record.duplicate_id",
                local_id=None,
                payload=payload,
                location=location,
            )
        seen[local_id] = label
        missing = [name for name in self.options.required if _empty(row.get(self.options.mapping.get(name, name)))]
        if missing:
            return Quarantine(
                code="record.missing_fields",
                reason=f"{label}: required field{'s' if len(missing) > 1 else ''} "
                f"{', '.join(repr(m) for m in missing)} empty",
                local_id=local_id,
                payload=payload,
                location=location,
            )
        return RawRecord(local_id=local_id, format="tabular", payload=payload)
