"""Where the benchmarks find the ledger core, whichever commit's layout the tree has.

The benchmarks run the same code against two trees: the current one and a baseline commit
extracted by ``bench/compare.py``. Modules move between them (``timebank.store`` into a
storage package, ``csvio`` next to it or the command line), so every name the benchmarks
need is looked up here, once, over the paths it has had: one list to extend when a module
moves again, rather than an import to fix in every script.

``pin_source(root)`` makes this process import the ledger core from ``root`` (a checkout or
an extraction), not from the editable install of the current tree, and ``check_source``
fails loudly when anything was loaded from the other tree after all.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import tomllib
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

# name -> the modules that have held it, the newest layout first.
CANDIDATES: dict[str, tuple[str, ...]] = {
    "Store": ("timebank.storage.store", "timebank.storage", "timebank.store"),
    "csvio": (
        "timebank.interchange.csvio",
        "timebank.interchange",
        "timebank.csvio",
        "timebank.storage.csvio",
        "timebank.cli.csvio",
        "timebank.commands.csvio",
    ),
    "Ledger": ("timebank.ledger", "timebank"),
    "Exchange": ("timebank.models", "timebank"),
    "Member": ("timebank.models", "timebank"),
    "SYSTEM": ("timebank.permissions", "timebank.ledger", "timebank"),
    "publish": ("timebank.publish", "timebank.publishing.publish", "timebank.publishing"),
}


@cache
def core(name: str) -> Any:
    """``name`` (a class, a function or a module) from the first module on its list that has it."""
    tried = []
    for module_name in CANDIDATES[name]:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            # Only a missing candidate is skipped: a module that exists and fails to import
            # is a real error, not a moved one.
            if exc.name is None or not module_name.startswith(exc.name):
                raise
            tried.append(module_name)
            continue
        if hasattr(module, name):
            return getattr(module, name)
        if module_name.rsplit(".", 1)[-1] == name:
            return module
        tried.append(module_name)
    raise ImportError(f"bench: {name!r} is in none of {', '.join(tried)}; add its new module to CANDIDATES")


class _SourceFinder(importlib.abc.MetaPathFinder):
    """Finds ``timebank`` and every module under it in one tree, or nowhere.

    First on ``sys.meta_path``: the editable install's own finder, further down, maps
    ``timebank.plugins`` and the current tree's subpackages (``timebank.storage``) to the
    current tree whatever ``PYTHONPATH`` says, so a module the pinned tree lacks must fail
    here rather than be found there. Packages the tree keeps under another folder
    (``timebank.plugins`` in ``plugins/``) come from its ``package-dir`` table.
    """

    def __init__(self, root: Path, mapping: dict[str, Path]):
        self.root = root
        self.mapping = mapping

    def find_spec(self, fullname: str, path: object = None, target: object = None):
        if fullname != "timebank" and not fullname.startswith("timebank."):
            return None
        folder = self.mapping.get(fullname)
        if folder is not None:
            return importlib.util.spec_from_file_location(
                fullname, folder / "__init__.py", submodule_search_locations=[str(folder)]
            )
        parent = fullname.rpartition(".")[0]
        where = [str(self.root)] if not parent else list(getattr(sys.modules.get(parent), "__path__", []))
        spec = importlib.machinery.PathFinder.find_spec(fullname, where)
        if spec is None:
            raise ModuleNotFoundError(f"No module named {fullname!r} in {self.root}", name=fullname)
        return spec


def package_dirs(root: Path) -> dict[str, Path]:
    """The tree's ``[tool.setuptools.package-dir]``: packages that live under another folder."""
    pyproject = root / "pyproject.toml"
    if not pyproject.exists():
        return {}
    table = tomllib.loads(pyproject.read_text()).get("tool", {}).get("setuptools", {})
    return {name: root / folder for name, folder in table.get("package-dir", {}).items() if name}


def pin_source(root: Path) -> None:
    """Import ``timebank`` and every module under it from ``root`` only, in this process.

    Call before anything imports ``timebank``. Other modules (a plugin installed from the
    tree's examples) follow ``sys.path``: put ``root``'s folders first on ``PYTHONPATH``.
    """
    if any(name == "timebank" or name.startswith("timebank.") for name in sys.modules):
        raise RuntimeError("bench: timebank was imported before its source was pinned")
    mapping = {name: folder for name, folder in package_dirs(root).items() if folder != root / name}
    sys.meta_path.insert(0, _SourceFinder(root, mapping))


def _under(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_source(root: Path, repo: Path, plugin_modules: list[ModuleType]) -> None:
    """Fail unless the core and its plugins came from ``root`` and nothing from another tree.

    ``repo`` is the current checkout: its ``bench/`` (the harness) and ``.venv/`` are
    allowed; any other file under it is the wrong tree when ``root`` is a baseline (and a
    baseline's files, under ``bench/data/``, are the wrong tree when ``root`` is ``repo``).
    """
    root, repo = root.resolve(), repo.resolve()
    harness = repo / "bench"
    wrong = []
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if not file:
            continue
        path = Path(file).resolve()
        if _under(path, root) and not _under(path, root / "bench"):
            continue
        if _under(path, harness) and not _under(path, harness / "data"):
            continue
        if _under(path, repo / ".venv") or not _under(path, repo):
            if name == "timebank" or name.startswith("timebank."):
                wrong.append(f"{name} from {path}")
            continue
        wrong.append(f"{name} from {path}")
    import timebank

    if not _under(Path(timebank.__file__).resolve(), root):
        wrong.append(f"timebank itself from {timebank.__file__}")
    if not plugin_modules:
        wrong.append("no plugin module found to check")
    for module in plugin_modules:
        if not _under(Path(module.__file__ or "").resolve(), root):
            wrong.append(f"plugin {module.__name__} from {module.__file__}")
    if wrong:
        raise SystemExit(f"bench: expected every module from {root}, but loaded " + "; ".join(wrong))
