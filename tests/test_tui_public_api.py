"""The terminal UI uses only the ledger's public API: never its store, its connection or a
private name, so the storage layer can change under it without a screen noticing."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REACHING = {"store", "conn"}


def reaches(source: str) -> list[tuple[int, str]]:
    """Each ``x.store``, ``x.conn``, ``ledger._name`` (``self.ledger._name``, ``app.ledger._name``)
    and ``from timebank.storage …`` in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            if node.attr in REACHING:
                found.append((node.lineno, f".{node.attr}"))
            elif node.attr.startswith("_") and not node.attr.startswith("__"):
                owner = node.value
                name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
                if name == "ledger":
                    found.append((node.lineno, f"ledger.{node.attr}"))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("timebank.storage"):
            found.append((node.lineno, f"from {node.module}"))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, a.name) for a in node.names if a.name.startswith("timebank.storage"))
    return found


def test_the_tui_uses_only_the_ledgers_public_api():
    found = [
        f"{path.relative_to(ROOT).as_posix()}:{line} {what}"
        for path in sorted((ROOT / "tui").rglob("*.py"))
        for line, what in reaches(path.read_text("utf-8"))
    ]
    assert found == [], "use a public Ledger method instead: " + ", ".join(found)


def test_the_check_sees_each_way_of_reaching_in():
    source = (
        "a = ledger.store.data_version()\n"
        "b = self.ledger.conn.execute('SELECT 1')\n"
        "c = self.app.ledger._members\n"
        "d = ledger._fresh()\n"
        "from timebank.storage import reads\n"
        "import timebank.storage.writes\n"
        "e = self.ledger.data_version()\n"  # public: fine
        "f = self._private\n"  # the screen's own: fine
    )
    assert sorted(line for line, _ in reaches(source)) == [1, 2, 3, 4, 5, 6]


def test_data_version_changes_when_another_connection_commits(make_ledger):
    import datetime as dt

    from timebank.ledger import Ledger
    from timebank.models import Member

    ledger = make_ledger()
    seen = ledger.data_version()
    ledger.add_member(Member("dora", "Dora", "member", dt.date(2024, 1, 1)), actor="coord")
    assert ledger.data_version() == seen  # its own commit: the screen knows already
    with Ledger(ledger.path) as other:
        other.add_member(Member("eve", "Eve", "member", dt.date(2024, 1, 1)), actor="coord")
    assert ledger.data_version() != seen
