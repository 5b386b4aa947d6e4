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
from pathlib import Path
from typing import Any

import attrs

from timebank.errors import InputError
from timebank.models import Problem
from timebank.publishing.disclosure import FLOORS
from timebank.units import check_text, format_minutes, parse_minutes


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
    "str_list_table": _table_of(_to_str_list),
}


SETTING_TEXT_LENGTH = 200
"""The longest text a setting's value (or a list's item, a table's key) may be, unless declared."""


@attrs.frozen
class Setting:
    """A setting a plugin reads: its name, type (a key of ``CONVERTERS``), default, help.

    A setting also declares the values that make sense, so a new version of the rules
    is refused before it is stored rather than failing every exchange afterwards:
    ``min`` and ``max`` (inclusive; minutes for durations, numbers or text such as
    ``"0.5"`` for decimals; for tables, each value), ``choices`` (text, or each item of
    a list), ``non_empty`` (a list or table needs at least one item, text at least one
    character) and ``max_length`` (text, list items and table keys). Relations between
    settings (a floor below the ceiling) are the plugin's ``validate_settings`` hook.
    """

    name: str
    type: str = attrs.field(validator=attrs.validators.in_(CONVERTERS))
    default: Any
    help: str = ""
    min: Any = attrs.field(default=None, kw_only=True)
    max: Any = attrs.field(default=None, kw_only=True)
    choices: tuple[str, ...] | None = attrs.field(
        default=None, kw_only=True, converter=attrs.converters.optional(tuple)
    )
    non_empty: bool = attrs.field(default=False, kw_only=True)
    max_length: int = attrs.field(default=SETTING_TEXT_LENGTH, kw_only=True)

    def convert(self, value: Any, where: str) -> Any:
        return CONVERTERS[self.type](value, where)

    def check(self, value: Any, where: str) -> None:
        """Refuse a converted value outside what this setting declares, in one sentence
        naming the setting and what it allows."""
        if self.type in ("str", "str_list", "str_table"):
            texts = [value] if self.type == "str" else list(value) if self.type == "str_list" else []
            for text in texts:
                check_text(text, field=where, max_length=self.max_length)
                if self.type == "str_list" and not text.strip():
                    raise InputError(f"{where}: {value!r} holds an empty item")
                if self.choices is not None and text not in self.choices:
                    raise InputError(f"{where}: {text!r} is not one of {', '.join(self.choices)}")
        if self.non_empty and (not value.strip() if isinstance(value, str) else len(value) == 0):
            raise InputError(f"{where}: must not be empty")
        if isinstance(value, dict):
            for key, item in value.items():
                check_text(key, field=f"{where} key", max_length=self.max_length)
                if not key.strip():
                    raise InputError(f"{where}: a key is empty")
                if self.type == "str_table":
                    check_text(item, field=f"{where}.{key}", max_length=self.max_length)
                self._check_range(item, f"{where}.{_key(key)}")
        elif self.type in ("int", "minutes", "decimal"):
            self._check_range(value, where)

    def _check_range(self, value: Any, where: str) -> None:
        if self.min is None and self.max is None:
            return
        number = Decimal(str(value)) if self.type.startswith("decimal") else value
        low = None if self.min is None else _bound(self.min, self.type)
        high = None if self.max is None else _bound(self.max, self.type)
        if (low is None or number >= low) and (high is None or number <= high):
            return
        shown = self._show(value)
        if low is not None and high is not None:
            allowed = f"from {self._show(self.min)} to {self._show(self.max)}"
        elif low is not None:
            allowed = f"at least {self._show(self.min)}"
        else:
            allowed = f"at most {self._show(self.max)}"
        raise InputError(f"{where}: {shown} is out of range; it must be {allowed}")

    def _show(self, value: Any) -> str:
        if self.type.startswith("minutes"):
            return format_minutes(value)
        return str(value)


def _bound(bound: Any, kind: str) -> Any:
    return Decimal(str(bound)) if kind.startswith("decimal") else bound


COOP_SETTINGS = (
    Setting(
        "name", "str", "Our Care Co-op", "the co-op's name, shown in the TUI and published", non_empty=True
    ),
    Setting("description", "str", "", "one paragraph for the public site", max_length=2000),
    Setting("licence", "str", "CC BY 4.0", "licence of the published figures"),
    Setting("licence_url", "str", "https://creativecommons.org/licenses/by/4.0/", "", max_length=500),
    Setting("source_url", "str", "", "where the public can read how figures are made", max_length=500),
    Setting(
        "listing_expiry_days",
        "int",
        56,
        "days an offer or request stays open unless renewed",
        min=1,
        max=3650,
    ),
    Setting("neighbouring_kinds", "str_list_table", {}, "kinds of care matched after the same kind"),
    Setting("neighbouring_areas", "str_list_table", {}, "areas matched after the same area"),
    # Published figures: a co-op may be stricter than the floors, never laxer.
    Setting(
        "publish_k",
        "int",
        5,
        "published figures: smallest group of members shown (at least 5)",
        min=FLOORS["publish_k"],
        max=1000,
    ),
    Setting(
        "publish_p",
        "int",
        20,
        "published figures: hidden hours stay uncertain by this percent (at least 10)",
        min=FLOORS["publish_p"],
        max=100,
    ),
    Setting(
        "publish_round_counts",
        "int",
        5,
        "published counts are rounded to a multiple of this",
        min=FLOORS["publish_round_counts"],
        max=100,
    ),
    Setting(
        "publish_round_hours",
        "minutes",
        300,
        "published hours are rounded to a multiple of this (at least 1h)",
        min=FLOORS["publish_round_hours"],
        max=100 * 60,
    ),
    Setting("public_areas", "str_list", [], "areas that may be named in published figures"),
    Setting(
        "members_see_balances",
        "bool",
        False,
        "members may read each other's balances (never statements); co-ordinators always may",
    ),
)


def low_not_above_high(settings: Mapping[str, Any], plugin: str, low: str, high: str) -> list[Problem]:
    """The error a plugin's ``validate_settings`` gives when setting ``low`` is above ``high``.

    Several plugins declare a fewest and a most (members of a group, contacts in an
    episode); one check keeps their refusals worded alike and pointing at ``low``.
    """
    if settings[low] > settings[high]:
        return [Problem("error", plugin, low, f"{settings[low]} is more than {high} ({settings[high]})")]
    return []


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


class MissingPlugin(InputError):
    """Rules enable plugins that are not installed here (``missing``, in the rules' order).

    For the rules in force (``version`` > 0) the sentence says how to get out: install the
    plugin again, or have a co-ordinator disable it (``Ledger.disable_plugins``).
    """

    def __init__(self, missing: list[str], version: int, message: str = ""):
        self.missing = tuple(missing)
        self.version = version
        names = " and ".join(repr(name) for name in self.missing)
        which = "plugin" if len(self.missing) == 1 else "plugins"
        super().__init__(
            message
            or f"rules: the rules in force (version {version}) enable the {which} {names}, which "
            f"{'is' if len(self.missing) == 1 else 'are'} not installed here; install it again, "
            f"or have a co-ordinator disable it with 'timebank rules disable {' '.join(self.missing)}'"
        )


def build_rules(
    data: Mapping[str, Any],
    declared: Mapping[str, tuple[Setting, ...]],
    version: int = 0,
    *,
    drop_missing: bool = False,
) -> Rules:
    """Check rules data against what the registered plugins declare, filling defaults.

    Raises ``InputError`` naming the first unknown section, plugin, setting or
    wrongly typed value; ``MissingPlugin`` for plugins that are not installed, unless
    ``drop_missing`` (then the rules without them: only to judge who may disable them).
    """
    unknown = set(data) - {"coop", "plugins"}
    if unknown:
        raise InputError(f"rules: unknown section [{sorted(unknown)[0]}]; use [coop] or [plugins.NAME]")
    coop = _fill("coop", data.get("coop", {}), COOP_SETTINGS)
    plugins_data = data.get("plugins", {})
    if not isinstance(plugins_data, dict):
        raise InputError("rules: [plugins] must be a table of plugin tables")
    missing = [name for name in plugins_data if name not in declared]
    if missing and not drop_missing:
        if version:
            raise MissingPlugin(missing, version)
        known = ", ".join(sorted(declared))
        raise MissingPlugin(
            missing, 0, f"rules: no plugin named {missing[0]!r} is installed (installed: {known})"
        )
    plugins: dict[str, dict[str, Any]] = {}
    for name, values in plugins_data.items():
        if name in missing:
            continue
        if not isinstance(values, dict):
            raise InputError(f"rules: [plugins.{name}] must be a table of settings")
        plugins[name] = _fill(f"plugins.{name}", values, declared[name])
    return Rules(version=version, coop=coop, plugins=plugins)


def check_rules(rules: Rules, declared: Mapping[str, tuple[Setting, ...]], plugins: Any) -> None:
    """Check a new version of the rules as a whole before it is stored.

    Every value must lie within what its setting declares (``Setting.check``), then
    each enabled plugin's ``validate_settings`` hook judges the relations between its
    settings (a floor above the ceiling). Raises ``InputError`` naming the first
    setting that fails and what it allows. Reading rules already stored does not run
    this, so an old ledger still opens and its co-ordinator can repair it.
    """
    for setting in COOP_SETTINGS:
        setting.check(rules.coop[setting.name], f"coop.{setting.name}")
    for plugin, values in rules.plugins.items():
        for setting in declared.get(plugin, ()):
            setting.check(values[setting.name], f"plugins.{plugin}.{setting.name}")
    for plugin, problems in plugins.call("validate_settings", rules):
        for problem in problems:  # each a Problem: the plugin manager checks every result's type
            if problem.severity == "error":
                raise InputError(f"plugins.{plugin}.{problem.field}: {problem.message}")
    for hook, what in (("declare_member_classes", "member class"), ("declare_categories", "kind of care")):
        if not any(found for _, found in plugins.call(hook, rules)):
            raise InputError(
                f"rules: no enabled plugin declares a {what}, so no member could be added or no "
                f"exchange recorded; keep 'classic' (or a plugin that declares them) enabled"
            )


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


# Rules are a page of settings: a file of a megabyte, or tables nested more than a dozen
# deep (``plugins.NAME.SETTING.KEY`` is four), is a mistake or an attack, not rules.
MAX_RULES_BYTES = 1_000_000
MAX_RULES_DEPTH = 12


def _depth(value: Any) -> int:
    """How deeply tables and arrays nest in ``value``, without recursing (stops past the limit)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_RULES_DEPTH:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


def parse_toml(text: str, source: str = "rules") -> dict[str, Any]:
    """Read rules TOML, turning a syntax error into one sentence naming the line."""
    too_deep = f"{source}: tables or arrays nested more than {MAX_RULES_DEPTH} deep are not rules"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{source}: not valid TOML ({exc})") from None
    except RecursionError:
        raise InputError(too_deep) from None
    if _depth(data) > MAX_RULES_DEPTH:
        raise InputError(too_deep)
    return data


def read_rules_file(path: str | Path) -> dict[str, Any]:
    """Read a rules file: UTF-8 (a byte-order mark is allowed), at most ``MAX_RULES_BYTES``."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_RULES_BYTES + 1)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    if len(raw) > MAX_RULES_BYTES:
        raise InputError(f"{path}: more than {MAX_RULES_BYTES:,} bytes is too large for a rules file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"{path}: line {line} is not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8"
        ) from None
    return parse_toml(text, str(path))


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
