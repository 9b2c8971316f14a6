"""Source forms generated from the connector's own options model (their checks: form_checks.py).

The form is built by walking the pydantic JSON schema of `Connector.Options`,
so a connector installed as a plugin gets its form for free:

    string            -> text input            integer, number -> number input
    boolean           -> checkbox              enum (Literal, Enum) -> select
    list              -> textarea, one per line
    dict (a mapping)  -> textarea, "key = value" lines
    anything else     -> textarea holding YAML

A field's `description` is its help text. Errors (pydantic's `loc`) come back
to the field they belong to. Field names: common keys as in YAML (`id`,
`schedule`, `name.ky`, `policy.delay_seconds`), connector options as `opt.<key>`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import BaseModel

from fedsearch.config import HarvestPolicy, Settings, SourceConfig
from fedsearch_app.admin.form_checks import (  # noqa: F401 - re-exported: the routers call them as forms.*
    _COMMON,
    ADMIN_ONLY_KEYS,
    OPTION,
    admin_only_changes,
    config_problem_field,
    error_message,
    field_name,
    reach_problems,
    validate_source,
)
from fedsearch_app.admin.option_texts import option_texts
from fedsearch_app.managed_sources import source_dict
from web_ui.i18n import N_
from web_ui.i18n import gettext_ as _

POLICY = "policy."
NAME_LANGS = ("ky", "ru", "en")

# Help for the keys every source has (the connectors' own fields bring their descriptions).
POLICY_HELP = {
    "timeout_seconds": N_("Seconds to wait for an answer before giving up; empty: the server-wide setting."),
    "delay_seconds": N_("Pause between two requests to this partner, in seconds; empty: the server-wide setting."),
    "max_retries": N_("How many times to retry a failed request; empty: the server-wide setting."),
    "max_record_bytes": N_("Larger records are quarantined; empty: the server-wide setting."),
    "user_agent": N_("How our harvester introduces itself to the partner; empty: the server-wide setting."),
}
POLICY_LABELS = {
    "timeout_seconds": N_("Time limit (seconds)"),
    "delay_seconds": N_("Pause between requests (seconds)"),
    "max_retries": N_("Retries"),
    "max_record_bytes": N_("Largest record (bytes)"),
    "user_agent": N_("User-Agent"),
}


@dataclass
class FormField:
    name: str
    label: str
    kind: str  # text | number | checkbox | select | lines | pairs | yaml | hidden
    value: Any = ""
    help: str | None = None
    help_lang: str | None = None  # "en" for a connector's own (untranslated) texts
    required: bool = False
    choices: list[tuple[str, str]] = field(default_factory=list)
    minimum: float | None = None
    maximum: float | None = None
    step: str | None = None
    placeholder: str | None = None
    error: str | None = None
    readonly: bool = False

    @property
    def dom_id(self) -> str:
        return "f-" + re.sub(r"[^a-zA-Z0-9_-]", "-", self.name)


@dataclass
class SourceForm:
    connector: str
    connector_description: str
    common: list[FormField]
    options: list[FormField]
    policy: list[FormField]
    errors: list[str] = field(default_factory=list)  # problems that belong to no one field
    editing: bool = False

    @property
    def fields(self) -> list[FormField]:
        return self.common + self.options + self.policy

    def field(self, name: str) -> FormField | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def invalid(self) -> list[FormField]:
        return [f for f in self.fields if f.error]

    def set_errors(self, errors: Mapping[str, str]) -> None:
        for name, message in errors.items():
            target = self.field(name)
            if target is not None:
                target.error = message
            else:
                self.errors.append(message)


# -- schema -> fields ----------------------------------------------------------------------------


def _resolve(prop: dict[str, Any], defs: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """(the property's own schema, nullable) with anyOf [X, null] and $ref taken apart."""
    nullable = False
    schema = dict(prop)
    if "anyOf" in schema:
        variants = [v for v in schema["anyOf"] if v.get("type") != "null"]
        nullable = len(variants) < len(schema["anyOf"])
        if len(variants) == 1:
            schema.pop("anyOf")
            schema = {**variants[0], **schema}
    if "$ref" in schema:
        target = defs.get(schema.pop("$ref").rsplit("/", 1)[-1], {})
        schema = {**target, **schema}
    return schema, nullable


def _kind(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        return "select"
    t = schema.get("type")
    if t == "boolean":
        return "checkbox"
    if t in ("integer", "number"):
        return "number"
    if t == "string":
        return "text"
    if t == "array" and schema.get("items", {}).get("type") in ("string", "integer", "number"):
        return "lines"
    if (
        t == "object"
        and isinstance(schema.get("additionalProperties"), dict)
        and schema["additionalProperties"].get("type") in ("string", "integer", "number")
    ):
        return "pairs"
    return "yaml"


def display_value(kind: str, value: Any) -> Any:
    """A value as the form shows it."""
    if kind == "checkbox":
        return bool(value)
    if value is None:
        return ""
    if kind == "lines":
        return "\n".join(str(v) for v in value)
    if kind == "pairs":
        return "\n".join(f"{k} = {v}" for k, v in dict(value).items())
    if kind == "yaml":
        return yaml.safe_dump(value, allow_unicode=True, sort_keys=False).strip()
    if hasattr(value, "value"):  # an Enum
        return str(value.value)
    return str(value)


def model_fields(
    model: type[BaseModel], values: Mapping[str, Any], prefix: str, *, help_lang: str | None = "en"
) -> list[FormField]:
    """One form field per property of the model's JSON schema, filled with `values` (else defaults)."""
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    out = []
    for name, prop in schema.get("properties", {}).items():
        sub, nullable = _resolve(prop, defs)
        kind = _kind(sub)
        value = values.get(name, sub.get("default"))
        f = FormField(
            name=prefix + name,
            label=prop.get("title") or name.replace("_", " ").capitalize(),
            kind=kind,
            value=display_value(kind, value),
            help=sub.get("description"),
            help_lang=help_lang,
            required=name in required,
        )
        if kind == "select":
            f.choices = [(str(v), str(v)) for v in sub["enum"]]
            if nullable or (name not in required and "default" not in sub):
                f.choices.insert(0, ("", "—"))
        elif kind == "number":
            f.minimum = sub.get("minimum", sub.get("exclusiveMinimum"))
            f.maximum = sub.get("maximum", sub.get("exclusiveMaximum"))
            f.step = "1" if sub.get("type") == "integer" else "any"
        out.append(f)
    return out


def source_form(
    settings: Settings, connector_cls: type, source: Mapping[str, Any] | None = None, *, editing: bool = False
) -> SourceForm:
    """The form for a source of this connector, filled with `source` (a YAML-like dict) if given."""
    src = dict(source or {})
    names = src.get("name") or {}
    common = [
        FormField(
            "id",
            _("Identifier"),
            "text",
            src.get("id", ""),
            required=True,
            readonly=editing,
            help_lang=None,
            help=_(
                "Short and permanent: lowercase Latin letters, digits, - and _ (e.g. knu-repository). "
                "Record addresses are built from it, so it can't be changed later."
            ),
        ),
        *[
            FormField(f"name.{lang}", label, "text", names.get(lang, ""), help_lang=None)
            for lang, label in zip(NAME_LANGS, (_("Name in Kyrgyz"), _("Name in Russian"), _("Name in English")))
        ],
        FormField(
            "institution",
            _("Institution"),
            "text",
            src.get("institution") or "",
            help_lang=None,
            help=_("The organization whose database this is, as readers should see it."),
        ),
        FormField(
            "schedule",
            _("Schedule"),
            "text",
            src.get("schedule") or "",
            help_lang=None,
            placeholder="6h",
            help=_(
                "How often to harvest: an interval such as 30m, 6h or 1d, or a cron expression such "
                "as 0 3 * * * (every day at 03:00). Empty: only when started by hand."
            ),
        ),
        FormField(
            "enabled",
            _("Enabled"),
            "checkbox",
            src.get("enabled", True),
            help_lang=None,
            help=_("A disabled source is kept with its records but is not harvested."),
        ),
        FormField(
            "allow_private_networks",
            _("Partner on a private network"),
            "checkbox",
            src.get("allow_private_networks", False),
            help_lang=None,
            help=_(
                "Allow this source to reach loopback, link-local and private addresses (a partner on "
                "the local network). Only admins can change this."
            ),
        ),
    ]
    options = model_fields(connector_cls.Options, {k: v for k, v in src.items() if k not in _COMMON}, OPTION)
    for f in options:  # the librarians' words, in the UI language, where we have them
        texts = option_texts(connector_cls.name, f.name[len(OPTION) :])
        if texts:
            f.label, f.help, f.help_lang = _(texts[0]), _(texts[1]), None
    policy_values = src.get("policy") or {}
    policy = []
    for f in model_fields(HarvestPolicy, policy_values, POLICY, help_lang=None):
        key = f.name[len(POLICY) :]
        f.placeholder = display_value(f.kind, getattr(settings.harvest, key))
        f.value = display_value(f.kind, policy_values.get(key)) if key in policy_values else ""
        f.label = _(POLICY_LABELS.get(key, f.label))
        f.help = _(POLICY_HELP[key]) if key in POLICY_HELP else None
        f.required = False
        policy.append(f)
    return SourceForm(connector_cls.name, connector_cls.description, common, options, policy, editing=editing)


# -- form data -> source ---------------------------------------------------------------------------


class _Unparsable(ValueError):
    pass


def _parse(kind: str, raw: str | None, present: bool) -> Any:
    """A form value as the model gets it; None means "not given" (the default applies)."""
    if kind == "checkbox":
        return present
    text = (raw or "").strip()
    if not text:
        return None
    if kind == "lines":
        return [line.strip() for line in text.splitlines() if line.strip()]
    if kind == "pairs":
        out = {}
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                raise _Unparsable(_("Line %(n)s: write key = value.") % {"n": n})
            out[key.strip()] = value.strip()
        return out
    if kind == "yaml":
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise _Unparsable(_("Not valid YAML: %(error)s") % {"error": getattr(err, "problem", err)}) from None
    return text


def parse_source_form(
    settings: Settings, connector_cls: type, data: Mapping[str, Any], *, source_id: str | None = None
) -> tuple[dict[str, Any], dict[str, str], SourceForm]:
    """(the source as a YAML-like dict, errors by field name, the form filled with what was sent)."""
    form = source_form(settings, connector_cls, editing=source_id is not None)
    errors: dict[str, str] = {}
    config: dict[str, Any] = {
        "id": source_id or str(data.get("id", "")).strip().lower(),
        "connector": connector_cls.name,
    }
    names: dict[str, str] = {}
    options: dict[str, Any] = {}
    policy: dict[str, Any] = {}
    for f in form.fields:
        raw = data.get(f.name)
        present = f.name in data
        if f.kind == "checkbox":
            f.value = present
        elif f.name != "id" or source_id is None:
            f.value = raw if isinstance(raw, str) else ""
        try:
            value = _parse(f.kind, raw if isinstance(raw, str) else None, present)
        except _Unparsable as err:
            errors[f.name] = str(err)
            continue
        if f.name == "id":
            f.value = config["id"]
        elif f.name.startswith("name."):
            if value:
                names[f.name[5:]] = value
        elif f.name.startswith(OPTION):
            if value is not None:
                options[f.name[len(OPTION) :]] = value
        elif f.name.startswith(POLICY):
            if value is not None:
                policy[f.name[len(POLICY) :]] = value
        elif f.name == "enabled":
            if not value:
                config["enabled"] = False
        elif f.name == "allow_private_networks":
            if value:
                config["allow_private_networks"] = True
        elif value is not None:
            config[f.name] = value
    if names:
        config["name"] = names
    if policy:
        # A source's policy replaces the server-wide one, so unset keys keep the server-wide values.
        config["policy"] = {**settings.harvest.model_dump(mode="json"), **policy}
    config.update(options)
    errors.update({k: v for k, v in validate_source(connector_cls, config).items() if k not in errors})
    if not errors:
        config = canonical_source(connector_cls, config)
    return config, errors, form


def canonical_source(connector_cls: type, config: Mapping[str, Any]) -> dict[str, Any]:
    """A valid source as stored and exported: typed values, defaults left out."""
    options = connector_cls.Options.model_validate({k: v for k, v in config.items() if k not in _COMMON})
    common = {k: v for k, v in config.items() if k in _COMMON}
    return source_dict(
        SourceConfig.model_validate({**common, **options.model_dump(mode="json", exclude_defaults=True)})
    )
