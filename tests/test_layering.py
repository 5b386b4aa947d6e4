"""The arrows point one way: tui -> timebank, plugins -> timebank; the core never reaches up."""

import ast
from pathlib import Path

ROOT = Path(__file__).parent.parent


def imported_modules(folder: Path) -> set[tuple[str, str]]:
    found = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {(path.name, alias.name) for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.add((path.name, node.module))
    return found


def test_core_never_imports_the_tui_or_textual():
    bad = {
        (f, m) for f, m in imported_modules(ROOT / "timebank") if m.startswith(("textual", "timebank.tui"))
    }
    assert not bad


def test_core_imports_built_in_plugins_only_by_name():
    bad = {(f, m) for f, m in imported_modules(ROOT / "timebank") if m.startswith("timebank.plugins.")}
    assert not bad, "the core lists built-ins in BUILTIN_PLUGINS and never imports them"


def test_plugins_load_without_the_tui():
    """Only a plugin's own ``*_screen.py`` module, imported when the TUI asks, may use Textual."""
    bad = {
        (f, m)
        for f, m in imported_modules(ROOT / "plugins")
        if m.startswith("timebank.tui") or (m.startswith("textual") and not f.endswith("_screen.py"))
    }
    assert not bad


def test_plugin_modules_import_no_textual_at_load_time():
    """The hook imports the screen module lazily: importing the plugins must not load Textual."""
    import subprocess
    import sys

    code = (
        "import sys; from timebank.plugin_manager import Plugins; Plugins(); print('textual' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
