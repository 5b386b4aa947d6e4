"""The arrows point one way: tui -> timebank, plugins -> timebank; the core never reaches up.

Imports are read with ``ast``, so that every way of naming a module counts: ``import x``,
``from x import y`` (``y`` may itself be a module), relative imports (``from .tui.app
import run`` is resolved against the importing module's package), and imports by a
constant string (``importlib.import_module("textual.app")``, ``__import__("textual")``).
A subprocess then imports the command line, the ledger and publishing and checks that
Textual was not loaded at all, whatever route it came by.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent

# Where each package's source lives (pyproject.toml maps plugins/ and tui/ into timebank).
PACKAGES = {"timebank": ROOT / "timebank", "timebank.plugins": ROOT / "plugins", "timebank.tui": ROOT / "tui"}

STRING_IMPORTERS = {"import_module", "__import__"}


def module_name(path: Path, folder: Path, package: str) -> tuple[str, bool]:
    """``folder/cli/main.py`` in ``timebank`` -> (``timebank.cli.main``, False); an
    ``__init__.py`` is its package (True)."""
    parts = list(path.relative_to(folder).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    return ".".join([package, *parts]), is_package


def resolve(module: str, is_package: bool, level: int, name: str | None) -> str:
    """What ``from <level dots><name> import ...`` means inside ``module``."""
    if level == 0:
        return name or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, name] if name else base)


def _string_import(node: ast.Call) -> str | None:
    """The constant module name of ``importlib.import_module("x")`` or ``__import__("x")``."""
    func = node.func
    called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if called not in STRING_IMPORTERS or not node.args:
        return None
    first = node.args[0]
    return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None


def imports_of(source: str, module: str, is_package: bool) -> set[str]:
    """Every module name ``source`` (the text of ``module``) imports, resolved to absolute."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = resolve(module, is_package, node.level, node.module)
            found.add(base)
            # ``from timebank import tui`` and ``from . import tui`` import a module too
            found |= {f"{base}.{alias.name}" for alias in node.names if alias.name != "*"}
        elif isinstance(node, ast.Call) and (name := _string_import(node)):
            level = len(name) - len(name.lstrip("."))
            found.add(resolve(module, is_package, level, name.lstrip(".") or None))
    return found


def imported_modules(folder: Path, package: str) -> set[tuple[str, str]]:
    """``(file, imported module)`` for every ``*.py`` under ``folder``, the source of ``package``."""
    found = set()
    for path in folder.rglob("*.py"):
        module, is_package = module_name(path, folder, package)
        name = path.relative_to(folder).as_posix()
        found |= {(name, m) for m in imports_of(path.read_text(), module, is_package)}
    return found


def reaches(module: str, *prefixes: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def core_reaching_up(folder: Path, package: str = "timebank") -> set[tuple[str, str]]:
    """Core modules that import the TUI or Textual, by any route the source shows."""
    return {(f, m) for f, m in imported_modules(folder, package) if reaches(m, "textual", "timebank.tui")}


def test_core_never_imports_the_tui_or_textual():
    assert not core_reaching_up(PACKAGES["timebank"])


def test_core_imports_built_in_plugins_only_by_name():
    bad = {
        (f, m)
        for f, m in imported_modules(PACKAGES["timebank"], "timebank")
        if reaches(m, "timebank.plugins")
    }
    assert not bad, "the core lists built-ins in BUILTIN_PLUGINS and never imports them"


def test_plugins_load_without_the_tui():
    """Only a plugin's own ``*_screen.py`` module, imported when the TUI asks, may use Textual."""
    bad = {
        (f, m)
        for f, m in imported_modules(PACKAGES["timebank.plugins"], "timebank.plugins")
        if reaches(m, "timebank.tui") or (reaches(m, "textual") and not f.endswith("_screen.py"))
    }
    assert not bad


def test_plugins_and_commands_use_no_private_name_of_the_command_line():
    """The shared click helpers are public, in ``timebank.cli.options``; a plugin imports
    nothing of ``timebank.cli.main``, which imports every command."""
    bad = set()
    for package, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            module, is_package = module_name(path, folder, package)
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.ImportFrom) or not node.module and not node.level:
                    continue
                source = resolve(module, is_package, node.level, node.module)
                if reaches(source, "timebank.cli") and any(a.name.startswith("_") for a in node.names):
                    bad.add((path.relative_to(ROOT).as_posix(), source))
                if package == "timebank.plugins" and reaches(source, "timebank.cli.main"):
                    bad.add((path.relative_to(ROOT).as_posix(), source))
    assert not bad


@pytest.mark.parametrize("module", ["timebank.cli.main", "timebank.ledger", "timebank.publishing.publish"])
def test_importing_the_core_loads_no_textual(module):
    """Whatever the source says, the proof: a fresh interpreter imports ``module`` and
    Textual is not among the loaded modules."""
    code = (
        f"import sys, {module}\n"
        "print(sorted(m for m in sys.modules if m == 'textual' or m.startswith('timebank.tui')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", f"importing {module} loads {out.stdout.strip()}"


def test_plugin_modules_import_no_textual_at_load_time():
    """The hook imports the screen module lazily: importing the plugins must not load Textual."""
    code = (
        "import sys; from timebank.plugin_manager import Plugins; Plugins(); print('textual' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


PLANTED = {
    "relative.py": "from .tui.app import run\n",
    "relative_package.py": "from . import tui\n",
    "by_string.py": 'import importlib\n\ndef later():\n    return importlib.import_module("textual.app")\n',
    "by_bare_name.py": 'from importlib import import_module\nimport_module("timebank.tui.app")\n',
    "dunder.py": '__import__("textual")\n',
    "relative_string.py": 'import importlib\nimportlib.import_module(".tui.app", __package__)\n',
    "sub/__init__.py": "",
    "sub/two_up.py": "from ..tui import app\n",
    "sub/from_package.py": "from .. import tui\n",
    "absolute.py": "from timebank import tui\n",
}
HARMLESS = {
    "fine.py": "from .units import parse_day\nimport importlib\nimportlib.import_module(name)\n",
    "sub/fine.py": "from ..ledger import Ledger\nfrom . import two_up_not_tui\n",
    "near_miss.py": 'import textualize_me\n__import__("timebank.tuition")\n',
}


def test_the_checker_catches_every_planted_way_of_reaching_up(tmp_path):
    """A fake core package in tmp: each planted file must be caught, no harmless one."""
    core = tmp_path / "timebank"
    for name, source in {**PLANTED, **HARMLESS}.items():
        (core / name).parent.mkdir(parents=True, exist_ok=True)
        (core / name).write_text(source)
    caught = {f for f, _ in core_reaching_up(core)}
    assert caught == {n for n, s in PLANTED.items() if s}
