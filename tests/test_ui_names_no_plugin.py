"""The terminal UI and the command line ask the core (hooks such as ``member_limits``,
``near_limit_within``, ``exchange_fields``), never a plugin's settings by name: a rule
lives in the plugin that owns it, so switching a plugin off or writing a new one needs no
change to a screen or a command."""

import ast
from pathlib import Path

from timebank.plugin_manager import Plugins

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = (ROOT / "tui", ROOT / "timebank" / "cli")
# A screen's mode is named like the built-in plugin whose reports it shows; it is a key of
# the app's own screens, not of the plugin's settings.
SCREEN_MODES = {("tui/app.py", "reports")}
LOOKUPS = {"get", "settings", "change_settings", "setdefault", "pop"}


def plugin_words() -> set[str]:
    declared = Plugins(entry_points=False).declared_settings()
    return set(declared) | {setting.name for settings in declared.values() for setting in settings}


def keys_used(tree: ast.AST) -> list[tuple[int, str]]:
    """Text constants used as keys: subscripts, ``.get("x")``, ``"x" in …`` and dict keys."""
    found = []

    def text(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, node.value))

    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript):
            text(node.slice)
        elif (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in LOOKUPS
        ):
            for arg in node.args[:1]:
                text(arg)
        elif isinstance(node, ast.Compare) and any(isinstance(op, ast.In | ast.NotIn) for op in node.ops):
            text(node.left)
        elif isinstance(node, ast.Dict):
            for key in node.keys:
                if key is not None:
                    text(key)
    return found


def test_no_ui_or_cli_module_names_a_plugin_or_its_settings_as_a_key():
    words = plugin_words()
    assert {"credit_limits", "mutual_credit", "reports", "near_limit_within", "floor"} <= words
    named = []
    for folder in FOLDERS:
        for path in sorted(folder.rglob("*.py")):
            where = path.relative_to(ROOT).as_posix()
            for line, key in keys_used(ast.parse(path.read_text("utf-8"))):
                if key in words and (where, key) not in SCREEN_MODES:
                    named.append(f"{where}:{line} {key!r}")
    assert named == [], "ask the core through a hook instead: " + ", ".join(named)


def test_the_check_sees_the_ways_a_key_is_named():
    source = (
        'a = rules.settings("reports")["near_limit_within"]\n'
        'b = "mutual_credit" in rules.enabled\n'
        'c = {"floor": 1}\n'
        'd = data.get("credit_limits")\n'
        'e = table.add_columns("floor", "ceiling")\n'  # a column's title, not a key
    )
    keys = {key for _, key in keys_used(ast.parse(source))}
    assert keys == {"reports", "near_limit_within", "mutual_credit", "floor", "credit_limits"}
