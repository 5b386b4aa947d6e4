"""The core, the terminal UI and the command line ask through hooks (``member_limits``,
``near_limit_within``, ``exchange_fields``, ``add_demo_records``), never a plugin by name
nor its settings: a rule lives in the plugin that owns it, so switching a plugin off or
writing a new one needs no change outside ``plugins/``."""

import ast
from pathlib import Path

from timebank.plugin_manager import Plugins

ROOT = Path(__file__).resolve().parent.parent
# every module outside plugins/: the core package (its cli/ too) and the terminal UI
FOLDERS = (ROOT / "timebank", ROOT / "tui")
# Each exception by file and word, with why.
EXCEPTIONS = {
    # A screen's mode is named like the built-in plugin whose reports it shows; it is a key
    # of the app's own screens, not of the plugin's settings.
    ("tui/app.py", "reports"),
    # The demo co-op's own rules, data as a template's are: they enable safeguarding for
    # personal care. Its checks are recorded by the plugin (``add_demo_records``).
    ("timebank/demo.py", "safeguarding"),
    ("timebank/demo.py", "checked_categories"),
    ("timebank/demo.py", "required_checks"),
    # A hook's name (what each hook returns), which a setting of ``reports`` shares.
    ("timebank/plugin_manager.py", "near_limit_within"),
}
LOOKUPS = {"get", "settings", "change_settings", "setdefault", "pop"}


def plugin_words() -> set[str]:
    declared = Plugins(entry_points=False).declared_settings()
    return set(declared) | {setting.name for settings in declared.values() for setting in settings}


def plugin_names() -> set[str]:
    return set(Plugins(entry_points=False).declared_settings())


def texts_equal_to(tree: ast.AST, words: set[str]) -> list[tuple[int, str]]:
    """Every text constant that is one of ``words``, wherever it is: a plugin named in a
    call (``get_plugin("safeguarding")``) as well as in a key."""
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in words
    ]


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


def modules() -> list[tuple[str, ast.AST]]:
    found = [
        (path.relative_to(ROOT).as_posix(), ast.parse(path.read_text("utf-8")))
        for folder in FOLDERS
        for path in sorted(folder.rglob("*.py"))
    ]
    assert {"timebank/demo.py", "timebank/ledger.py", "timebank/cli/main.py", "tui/app.py"} <= {
        where for where, _ in found
    }
    return found


def test_no_module_outside_plugins_names_a_plugin_or_its_settings_as_a_key():
    words = plugin_words()
    assert {"credit_limits", "mutual_credit", "reports", "near_limit_within", "floor"} <= words
    named = []
    for where, tree in modules():
        for line, key in keys_used(tree):
            if key in words and (where, key) not in EXCEPTIONS:
                named.append(f"{where}:{line} {key!r}")
    assert named == [], "ask the core through a hook instead: " + ", ".join(named)


def test_no_module_outside_plugins_names_a_plugin_anywhere():
    names = plugin_names()
    assert {"safeguarding", "credit_limits", "reports"} <= names
    named = [
        f"{where}:{line} {name!r}"
        for where, tree in modules()
        for line, name in texts_equal_to(tree, names)
        if (where, name) not in EXCEPTIONS
    ]
    assert named == [], "go through a hook, not a plugin by name: " + ", ".join(named)


def test_every_exception_is_still_needed():
    """An exception the code no longer needs is taken out, so the list stays what is true."""
    words = plugin_words()
    used = {
        (where, key)
        for where, tree in modules()
        for _, key in keys_used(tree) + texts_equal_to(tree, words)
        if key in words
    }
    assert EXCEPTIONS - used == set()


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


def test_the_check_sees_a_plugin_named_in_a_call():
    source = 'p = ledger.plugins.pm.get_plugin("safeguarding").record_check\nq = "safeguard"\n'
    assert texts_equal_to(ast.parse(source), {"safeguarding"}) == [(1, "safeguarding")]
