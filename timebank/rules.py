"""The rules in force: which plugins are enabled, with which settings, at which version.

Rules are data kept in the ledger, so any entry can be traced to the rules that
made it. They are read from and shown as TOML:

    [coop]
    name = "Riverside Care Co-op"

    [plugins.credit_limits]
    floor = "-10h"

A ``[plugins.NAME]`` table enables that plugin; every key in it must be a setting
the plugin declared, with a value of the declared type. Durations are written as
people write them (``"-10h"``, ``"90m"``) and kept as integer minutes.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from timebank.errors import InputError
from timebank.units import format_minutes, parse_minutes


def _to_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{where}: {value!r} is not a whole number")
    return value


def _to_str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise InputError(f"{where}: {value!r} is not text")
    return value


def _to_bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise InputError(f"{where}: {value!r} is not true or false")
    return value


def _to_minutes(value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise InputError(f"{where}: {value!r} is not a duration")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return parse_minutes(value, field=where)
    raise InputError(f'{where}: {value!r} is not a duration such as "-10h" or "90m"')


def _to_decimal(value: Any, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InputError(f"{where}: {value!r} is not a number")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise InputError(f"{where}: {value!r} is not a number") from None
    if not number.is_finite() or number < 0:
        raise InputError(f"{where}: {value!r} must be a finite number, zero or more")
    return str(number)


def _to_str_list(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{where}: {value!r} is not a list of text")
    return list(value)


def _table_of(convert: Callable[[Any, str], Any]) -> Callable[[Any, str], dict]:
    def to_table(value: Any, where: str) -> dict:
        if not isinstance(value, dict):
            raise InputError(f"{where}: {value!r} is not a table")
        return {str(k): convert(v, f"{where}.{k}") for k, v in value.items()}

    return to_table


CONVERTERS: dict[str, Callable[[Any, str], Any]] = {
    "int": _to_int,
    "str": _to_str,
    "bool": _to_bool,
    "minutes": _to_minutes,
    "decimal": _to_decimal,
    "str_list": _to_str_list,
    "minutes_table": _table_of(_to_minutes),
    "decimal_table": _table_of(_to_decimal),
    "str_table": _table_of(_to_str),
}


@attrs.frozen
class Setting:
    """A setting a plugin reads: its name, type (a key of ``CONVERTERS``), default, help."""

    name: str
    type: str = attrs.field(validator=attrs.validators.in_(CONVERTERS))
    default: Any
    help: str = ""

    def convert(self, value: Any, where: str) -> Any:
        return CONVERTERS[self.type](value, where)


COOP_SETTINGS = (
    Setting("name", "str", "Our Care Co-op", "the co-op's name, shown in the TUI and published"),
    Setting("description", "str", "", "one paragraph for the public site"),
    Setting("licence", "str", "CC BY 4.0", "licence of the published figures"),
    Setting("licence_url", "str", "https://creativecommons.org/licenses/by/4.0/", ""),
    Setting("source_url", "str", "", "where the public can read how figures are made"),
    Setting("publish_k", "int", 5, "published figures: smallest group of members shown (at least 5)"),
    Setting(
        "publish_p", "int", 20, "published figures: hidden hours stay uncertain by this percent (at least 10)"
    ),
    Setting("publish_round_counts", "int", 5, "published counts are rounded to a multiple of this"),
    Setting(
        "publish_round_hours",
        "minutes",
        300,
        "published hours are rounded to a multiple of this (at least 1h)",
    ),
    Setting("public_areas", "str_list", [], "areas that may be named in published figures"),
)


@attrs.frozen
class Rules:
    """One version of the rules: co-op details and each enabled plugin's settings.

    ``plugins`` keeps the order plugins were listed in; ``settings`` fills in the
    defaults each plugin declared.
    """

    version: int
    coop: Mapping[str, Any]
    plugins: Mapping[str, Mapping[str, Any]]

    @property
    def enabled(self) -> tuple[str, ...]:
        return tuple(self.plugins)

    def settings(self, plugin: str) -> Mapping[str, Any]:
        return self.plugins.get(plugin, {})

    def to_data(self) -> dict[str, Any]:
        return {"coop": dict(self.coop), "plugins": {k: dict(v) for k, v in self.plugins.items()}}

    def to_json(self) -> str:
        return json.dumps(self.to_data(), sort_keys=False, separators=(",", ":"))


def build_rules(
    data: Mapping[str, Any], declared: Mapping[str, tuple[Setting, ...]], version: int = 0
) -> Rules:
    """Check rules data against what the registered plugins declare, filling defaults.

    Raises ``InputError`` naming the first unknown section, plugin, setting or
    wrongly typed value.
    """
    unknown = set(data) - {"coop", "plugins"}
    if unknown:
        raise InputError(f"rules: unknown section [{sorted(unknown)[0]}]; use [coop] or [plugins.NAME]")
    coop = _fill("coop", data.get("coop", {}), COOP_SETTINGS)
    from timebank.disclosure import FLOORS  # published figures: a co-op may be stricter, never laxer

    for name, floor in FLOORS.items():
        if coop[name] < floor:
            raise InputError(f"coop.{name}: {coop[name]} is below the floor of {floor} for published figures")
    plugins_data = data.get("plugins", {})
    if not isinstance(plugins_data, dict):
        raise InputError("rules: [plugins] must be a table of plugin tables")
    plugins: dict[str, dict[str, Any]] = {}
    for name, values in plugins_data.items():
        if name not in declared:
            known = ", ".join(sorted(declared))
            raise InputError(f"rules: no plugin named {name!r} is installed (installed: {known})")
        if not isinstance(values, dict):
            raise InputError(f"rules: [plugins.{name}] must be a table of settings")
        plugins[name] = _fill(f"plugins.{name}", values, declared[name])
    return Rules(version=version, coop=coop, plugins=plugins)


def _fill(where: str, values: Mapping[str, Any], settings: tuple[Setting, ...]) -> dict[str, Any]:
    by_name = {s.name: s for s in settings}
    for key in values:
        if key not in by_name:
            known = ", ".join(sorted(by_name)) or "none"
            raise InputError(f"{where}: unknown setting {key!r} (known: {known})")
    return {
        s.name: s.convert(values[s.name], f"{where}.{s.name}") if s.name in values else s.default
        for s in settings
    }


def parse_toml(text: str, source: str = "rules") -> dict[str, Any]:
    """Read rules TOML, turning a syntax error into one sentence naming the line."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{source}: not valid TOML ({exc})") from None


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key)


def _value(value: Any, setting: Setting | None) -> str:
    if setting is not None and setting.type == "minutes":
        return json.dumps(format_minutes(value))
    if setting is not None and setting.type == "minutes_table":
        items = ", ".join(f"{_key(k)} = {json.dumps(format_minutes(v))}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v, None) for v in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{_key(k)} = {_value(v, None)}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    raise TypeError(f"cannot write {value!r} as TOML")


def render_toml(rules: Rules, declared: Mapping[str, tuple[Setting, ...]]) -> str:
    """Write rules as TOML that ``parse_toml`` and ``build_rules`` read back unchanged."""
    lines = [f"# timebank rules, version {rules.version}", "", "[coop]"]
    coop_settings = {s.name: s for s in COOP_SETTINGS}
    lines += [f"{_key(k)} = {_value(v, coop_settings.get(k))}" for k, v in rules.coop.items()]
    for plugin, values in rules.plugins.items():
        settings = {s.name: s for s in declared.get(plugin, ())}
        lines += ["", f"[plugins.{_key(plugin)}]"]
        for key, value in values.items():
            if settings.get(key) and settings[key].help:
                lines.append(f"# {settings[key].help}")
            lines.append(f"{_key(key)} = {_value(value, settings.get(key))}")
    return "\n".join(lines) + "\n"
