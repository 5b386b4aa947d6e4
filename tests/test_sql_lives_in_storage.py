"""No module outside ``timebank/storage/`` speaks SQL: the ledger core, listings, digests,
interchange, publishing, the CLI and the TUI ask the storage package, which holds every
statement on the ledger's tables."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).parent.parent
# Every module of timebank and its TUI, except the storage package itself.
MODULES = sorted(
    str(p.relative_to(ROOT))
    for p in [*(ROOT / "timebank").rglob("*.py"), *(ROOT / "tui").rglob("*.py")]
    if "storage" not in p.relative_to(ROOT).parts[:2]
)
# Where an execute call is not ours: the plugins' own tables (their SQL, passed through a
# connection that an authorizer keeps to those tables), and the public site's Datasette
# plugin, which reads the published file, never the ledger.
PASSES_ON = {"timebank/read_api.py": {"execute", "executemany"}}
PUBLISHED_FILE_ONLY = {"timebank/publishing/site/plugins/timebank_site.py"}
SQL = re.compile(
    r"\b(SELECT\b.*\bFROM|INSERT\s+INTO|UPDATE\s+\[?\w+\]?\s+SET|DELETE\s+FROM|CREATE\s+TABLE)\b", re.S
)
# The site's canned queries run in Datasette against the published file, never the ledger.
PUBLISHED = {"hours_by_month", "hours_by_month_kind", "members_active", "reciprocity", "balance_bands"}


def sql_in(path: Path) -> list[str]:
    found = []
    name = str(path.relative_to(ROOT))
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if id(node) in docstrings:
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in ("execute", "executemany", "executescript") and (
                node.func.attr not in PASSES_ON.get(name, ())
            ):
                found.append(f"line {node.lineno}: .{node.func.attr}(...)")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value):
            tables = set(re.findall(r"\bFROM\s+\[?(\w+)", node.value))
            if path.name == "serve.py" and tables and tables <= PUBLISHED:
                continue
            found.append(f"line {node.lineno}: {node.value[:60]!r}")
    return found


def test_no_sql_outside_storage_in_these_modules():
    checked = [name for name in MODULES if name not in PUBLISHED_FILE_ONLY]
    bad = {name: found for name in checked if (found := sql_in(ROOT / name))}
    assert not bad, f"SQL belongs in timebank/storage/: {bad}"


def test_the_check_sees_sql():
    """The check itself finds a statement and an execute call (so it cannot pass vacuously)."""
    assert len(MODULES) > 60 and "timebank/ledger.py" in MODULES and "tui/app.py" in MODULES
    assert not any(name.startswith("timebank/storage/") for name in MODULES)
    code = ROOT / "timebank/storage/listings.py"
    assert any("execute" in f for f in sql_in(code)) and any("INSERT" in f for f in sql_in(code))
