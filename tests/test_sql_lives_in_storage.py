"""The modules outside the ledger core speak no SQL: their statements live in
``timebank/storage/`` (listings, digests, publications, bundles, figures)."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).parent.parent
MODULES = [
    "timebank/listings.py",
    "timebank/digest.py",
    "timebank/mail.py",
    "timebank/interchange/bundle.py",
    "timebank/interchange/exports.py",
    "timebank/interchange/journal.py",
    "timebank/publishing/publish.py",
    "timebank/publishing/serve.py",
    "timebank/cli/main.py",
    "timebank/cli/formats.py",
    *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "timebank/cli/commands").glob("*.py")),
    *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tui/screens").glob("*.py")),
]
SQL = re.compile(
    r"\b(SELECT\b.*\bFROM|INSERT\s+INTO|UPDATE\s+\[?\w+\]?\s+SET|DELETE\s+FROM|CREATE\s+TABLE)\b", re.S
)
# The site's canned queries run in Datasette against the published file, never the ledger.
PUBLISHED = {"hours_by_month", "hours_by_month_kind", "members_active", "reciprocity", "balance_bands"}


def sql_in(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in ("execute", "executemany", "executescript"):
                found.append(f"line {node.lineno}: .{node.func.attr}(...)")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value):
            tables = set(re.findall(r"\bFROM\s+\[?(\w+)", node.value))
            if path.name == "serve.py" and tables and tables <= PUBLISHED:
                continue
            found.append(f"line {node.lineno}: {node.value[:60]!r}")
    return found


def test_no_sql_outside_storage_in_these_modules():
    bad = {name: found for name in MODULES if (found := sql_in(ROOT / name))}
    assert not bad, f"SQL belongs in timebank/storage/: {bad}"


def test_the_check_sees_sql():
    """The check itself finds a statement and an execute call (so it cannot pass vacuously)."""
    assert len(MODULES) > 20
    code = ROOT / "timebank/storage/listings.py"
    assert any("execute" in f for f in sql_in(code)) and any("INSERT" in f for f in sql_in(code))
