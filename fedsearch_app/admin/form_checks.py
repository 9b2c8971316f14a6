"""Checking a source form: errors by form field, in words a librarian understands, and reach and role checks.

fedsearch_app/admin/forms.py builds the form and reads it back; this module says
what is wrong with the result (pydantic's `loc` mapped to the form field).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from fedsearch.config import Settings, SourceConfig
from fedsearch.record import SOURCE_ID_PATTERN
from fedsearch_app.schedules import InvalidSchedule, parse_schedule
from web_ui.i18n import N_
from web_ui.i18n import gettext_ as _

OPTION = "opt."
_COMMON = {"id", "connector", "name", "enabled", "schedule", "institution", "policy", "allow_private_networks"}
ADMIN_ONLY_KEYS = ("allow_private_networks",)  # what a librarian may not change (docs/security.md)


def reach_problems(settings: Settings, source: SourceConfig) -> dict[str, str]:
    """A `path` outside the import folders, or a `url` the source may not reach, by form field.

    Checked when the source is tested or saved, so a librarian hears it at once;
    the connectors check again at every harvest (connectors/reach.py).
    """
    from connectors import reach

    problems: dict[str, str] = {}
    policy = settings.policy_for(source)
    for key in ("path", "url"):
        value = source.options.get(key)
        if not isinstance(value, str) or not value:
            continue
        try:
            if value.startswith(("http://", "https://")) or key == "url":
                reach.check_url(value, policy.reach)
            else:
                reach.resolve_files(value, policy.reach)
        except reach.ReachRefused as err:
            problems[OPTION + key] = str(err)
    return problems


def admin_only_changes(config: Mapping[str, Any], existing: SourceConfig | None) -> list[str]:
    """The keys of ADMIN_ONLY_KEYS whose value `config` changes (from the existing source, or the default)."""
    changed = []
    for key in ADMIN_ONLY_KEYS:
        before = getattr(existing, key) if existing is not None else SourceConfig.model_fields[key].default
        if bool(config.get(key, SourceConfig.model_fields[key].default)) != bool(before):
            changed.append(key)
    return changed


def field_name(loc: tuple[Any, ...], *, options: bool) -> str:
    """The form field a pydantic error location belongs to."""
    parts = [p for p in loc if not (isinstance(p, str) and p.startswith("function-"))]
    if not parts:
        return ""
    head = str(parts[0])
    if options:
        return OPTION + head
    if head in ("name", "policy") and len(parts) > 1:
        return f"{head}.{parts[1]}"
    return head


_PATTERN_WORDS = {
    r"^https?://": N_("Must start with http:// or https://."),
    SOURCE_ID_PATTERN: N_(
        "Use lowercase Latin letters, digits, - and _, starting with a letter or digit (at most 63 characters)."
    ),
}


def _number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def error_message(err: dict[str, Any]) -> str:
    """A pydantic error in the UI's language."""
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    if (
        kind == "missing"
        or (kind == "string_too_short" and ctx.get("min_length") == 1)
        or (kind == "string_pattern_mismatch" and err.get("input") == "")
    ):
        return _("Required.")
    if kind == "string_pattern_mismatch":
        words = _PATTERN_WORDS.get(str(ctx.get("pattern")))
        return _(words) if words else _("Not in the expected form (%(pattern)s).") % {"pattern": ctx.get("pattern")}
    if kind in ("int_parsing", "int_from_float", "int_type"):
        return _("Enter a whole number.")
    if kind in ("float_parsing", "float_type"):
        return _("Enter a number.")
    if kind == "greater_than_equal":
        return _("Must be at least %(limit)s.") % {"limit": _number(ctx.get("ge"))}
    if kind == "greater_than":
        return _("Must be more than %(limit)s.") % {"limit": _number(ctx.get("gt"))}
    if kind == "less_than_equal":
        return _("Must be at most %(limit)s.") % {"limit": _number(ctx.get("le"))}
    if kind == "less_than":
        return _("Must be less than %(limit)s.") % {"limit": _number(ctx.get("lt"))}
    if kind in ("literal_error", "enum"):
        return _("Choose one of: %(choices)s.") % {"choices": ctx.get("expected", "")}
    if kind == "string_too_long":
        return _("Too long: at most %(max)s characters.") % {"max": ctx.get("max_length")}
    if kind == "string_too_short":
        return _("Too short: at least %(min)s characters.") % {"min": ctx.get("min_length")}
    if kind == "extra_forbidden":
        return _("This connector has no such option.")
    if kind in ("list_type", "dict_type"):
        return _("Not the expected kind of value.")
    return err.get("msg", kind)


def validate_source(connector_cls: type, config: dict[str, Any]) -> dict[str, str]:
    """Errors by form field: the common keys, the connector's options, the schedule."""
    errors: dict[str, str] = {}
    try:
        source = SourceConfig.model_validate(config)
    except ValidationError as err:
        for e in err.errors():
            errors.setdefault(field_name(e["loc"], options=False), error_message(e))
        source = None
    options = {k: v for k, v in config.items() if k not in _COMMON}
    try:
        connector_cls.Options.model_validate(source.options if source else options)
    except ValidationError as err:
        for e in err.errors():
            errors.setdefault(field_name(e["loc"], options=True), error_message(e))
    if config.get("schedule"):
        try:
            parse_schedule(config["schedule"])
        except InvalidSchedule:
            errors["schedule"] = _(
                "Write an interval such as 30m, 6h or 1d, or a five-field cron expression such as 0 3 * * *."
            )
    return errors


_CONFIG_KEY = re.compile(r"^sources\[\d+\] \(id ([^)]*)\)\.?([A-Za-z_]\w*)?(?:[.\[](\w+))?")


def config_problem_field(key: str, source_id: str) -> str | None:
    """The form field of a check-config problem about this source (None: another source or global)."""
    m = _CONFIG_KEY.match(key)
    if not m or m.group(1) != source_id:
        return None
    head, sub = m.group(2) or "", m.group(3)
    if head in _COMMON:
        return f"{head}.{sub}" if head in ("name", "policy") and sub else head
    return OPTION + head if head else ""
