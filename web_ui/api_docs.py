"""The API docs page: the OpenAPI schema as operations and parameters, its Markdown as HTML."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

_CODE_SPAN = re.compile(r"`([^`]+)`")
_BULLET = re.compile(r"^[*-]\s+")


def _inline(text: str) -> str:
    return _CODE_SPAN.sub(r"<code>\1</code>", str(escape(" ".join(text.split()))))


def markdown_blocks(text: str) -> Markup:
    """The Markdown our OpenAPI descriptions use: paragraphs, "* " lists (wrapped lines), `code`. Escaped first."""
    out: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        items: list[str] = []
        para: list[str] = []
        for line in block.splitlines():
            if _BULLET.match(line.strip()):
                items.append(_BULLET.sub("", line.strip()))
            elif items and line[:1].isspace():
                items[-1] += " " + line.strip()  # a list item wrapped onto the next line
            else:
                para.append(line)
        if para:
            out.append(f"<p>{_inline(' '.join(para))}</p>")
        if items:
            out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
    return Markup("".join(out))  # noqa: S704 - every piece of text went through escape()


@dataclass
class ApiParam:
    name: str
    where: str
    required: bool
    type: str
    description: str


@dataclass
class ApiOperation:
    method: str
    path: str
    anchor: str
    summary: str
    description: str
    params: list[ApiParam]
    media_types: list[str]


def _schema_type(schema: dict[str, Any], components: dict[str, Any]) -> str:
    if "$ref" in schema:
        schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
    if "anyOf" in schema:
        return " | ".join(_schema_type(s, components) for s in schema["anyOf"])
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        return _schema_type(schema.get("items", {}), components) + " (repeatable)"
    bounds = [f"{k} {schema[k]}" for k in ("minimum", "maximum", "maxLength") if k in schema]
    default = (
        f", default {schema['default']}" if "default" in schema and schema["default"] not in (None, "", []) else ""
    )
    return kind + (f" ({', '.join(bounds)})" if bounds else "") + default


def api_operations(schema: dict[str, Any]) -> list[ApiOperation]:
    components = schema.get("components", {}).get("schemas", {})
    ops = []
    for path, methods in schema.get("paths", {}).items():
        for method, op in methods.items():
            params = [
                ApiParam(
                    p["name"],
                    p["in"],
                    p.get("required", False),
                    _schema_type(p.get("schema", {}), components),
                    p.get("description") or p.get("schema", {}).get("description", ""),
                )
                for p in op.get("parameters", [])
            ]
            media = sorted(
                {
                    m
                    for code, resp in op.get("responses", {}).items()
                    if str(code).startswith("2")
                    for m in resp.get("content", {})
                }
            )
            anchor = "op-" + re.sub(r"[^a-z0-9]+", "-", f"{method} {path}".lower()).strip("-")
            ops.append(
                ApiOperation(
                    method.upper(), path, anchor, op.get("summary", ""), op.get("description", ""), params, media
                )
            )
    return ops
