"""The one write path, ``Ledger.write``: what goes in, what comes out, dry runs, after-hooks.

Against real ledger files: a refusal or a dry run must leave every row as it was, and the
after-hooks and the anchors file must hear only of what was committed.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
import textwrap
from pathlib import Path

import pytest

from timebank.errors import RulesRefused
from timebank.interchange import csvio
from timebank.ledger import WriteResult
from timebank.models import Draft, Posting, Problem
from timebank.plugin_manager import Plugins
from timebank.storage.anchors import anchor_path
from timebank.testing import exchange, snapshot_rows

AUDIT = """
import os
from timebank import hookimpl

@hookimpl
def after_entries_recorded(ledger, entries, settings):
    with open(os.environ["AUDIT_FILE"], "a") as out:
        out.write(" ".join(str(e.id) for e in entries) + "\\n")
"""


@pytest.fixture
def audited(make_ledger, tmp_path, monkeypatch):
    """A ledger whose ``audit`` plugin writes each after-hook call's entry ids to a file."""
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "audit.py").write_text(textwrap.dedent(AUDIT))
    calls = tmp_path / "audit.txt"
    monkeypatch.setenv("AUDIT_FILE", str(calls))
    ledger = make_ledger(
        members={"alice": "member", "bob": "member", "carol": "member"},
        overrides={"plugins": {"audit": {}}},
        plugins=Plugins(entry_points=False, plugins_dir=folder),
    )
    ledger.calls = lambda: calls.read_text().splitlines() if calls.exists() else []  # type: ignore[attr-defined]
    return ledger


def gift(source: str, target: str, minutes: int) -> Draft:
    return Draft(
        kind="transfer",
        day=dt.date.today(),
        recorded_by="coord",
        postings=(Posting(source, -minutes), Posting(target, minutes)),
    )


def anchors(ledger) -> bytes:
    path = anchor_path(ledger.path)
    return path.read_bytes() if path.exists() else b""


def test_batches_of_exchanges_and_of_drafts_are_written_and_returned(audited):
    result = audited.write(
        [[exchange("alice", "bob"), exchange("bob", "carol", 30)], [gift("alice", "carol", 15)]]
    )
    assert isinstance(result, WriteResult)
    assert (result.count, result.problems, result.dry_run, result.written) == (3, (), False, True)
    assert [e.kind for e in result.entries] == ["service", "service", "transfer"]
    assert [e.id for e in result.entries] == [audited.last_entry_id() - 2 + i for i in range(3)]
    assert audited.balance("carol") == -30 + 15  # received 30m, was given 15m
    assert audited.calls() == [" ".join(str(e.id) for e in result.entries)], "one after-hook call"
    assert audited.verify().ok


def test_a_refused_write_returns_every_problem_indexed_across_batches_and_writes_nothing(audited):
    before, before_anchors = snapshot_rows(audited), anchors(audited)
    first = [exchange("alice", "bob"), exchange("bob", "alice")]
    second = [exchange("carol", "bob"), exchange("alice", "bob", category="juggling")]
    result = audited.write([first, second])  # returned, not raised
    assert result.count == 0 and result.entries == () and not result.written
    assert [(p.index, p.field) for p in result.problems] == [(3, "category")]
    assert all(isinstance(p, Problem) for p in result.problems)
    assert snapshot_rows(audited) == before
    assert anchors(audited) == before_anchors
    assert audited.calls() == []
    with pytest.raises(RulesRefused) as caught:
        result.refuse()
    assert caught.value.problems == result.problems


def test_a_dry_run_counts_what_it_would_write_then_rolls_back_without_raising(audited):
    before, before_anchors = snapshot_rows(audited), anchors(audited)
    result = audited.write([[exchange("alice", "bob"), exchange("bob", "carol")]], dry_run=True)
    assert (result.count, result.dry_run, result.written, result.problems) == (2, True, False, ())
    assert len(result.entries) == 2
    assert snapshot_rows(audited) == before
    assert anchors(audited) == before_anchors, "no anchor for entries that were rolled back"
    assert audited.calls() == [], "no after-hook hears of a dry run"
    after = audited.write([[exchange("alice", "bob")]])  # the ledger goes on from where it was
    assert after.entries[0].id == result.entries[0].id
    assert audited.verify().ok


def test_a_dry_run_transaction_undoes_several_writes_and_member_changes(audited):
    before = snapshot_rows(audited)
    with audited.transaction(dry_run=True):
        audited.write([[exchange("alice", "bob")]])
        audited.retire_member("carol", actor="coord")
        audited.write([[gift("bob", "alice", 10)]])
    assert snapshot_rows(audited) == before
    assert audited.member("carol").is_active
    assert audited.calls() == []


def test_a_refused_write_inside_a_transaction_undoes_only_itself(audited):
    with audited.transaction():
        kept = audited.write([[exchange("alice", "bob")]])
        refused = audited.write([[exchange("alice", "bob", category="juggling")]])
        also = audited.write([[exchange("bob", "carol")]])
        assert audited.calls() == [], "after-hooks wait for the commit"
    assert refused.problems and refused.count == 0
    ids = [kept.entries[0].id, also.entries[0].id]
    assert ids[1] == ids[0] + 1, "the refused write left no entry and no gap in the chain"
    assert audited.calls() == [f"{ids[0]} {ids[1]}"]
    assert audited.verify().ok


def test_the_public_methods_still_raise_rules_refused(audited):
    before = snapshot_rows(audited)
    with pytest.raises(RulesRefused):
        audited.record_many([exchange("alice", "bob"), exchange(category="juggling")])
    with pytest.raises(RulesRefused):
        audited.write_drafts([gift("alice", "bob", 10**9)])
    assert snapshot_rows(audited) == before


def test_import_problems_are_problems_at_their_lines_in_line_order(ledger, tmp_path):
    """A file error (line 4) and a rule's refusal (line 2) come back as ``Problem`` values
    whose index is the line, sorted by line, formatted only by ``describe_line``."""
    path = tmp_path / "x.csv"
    path.write_text(
        "date,giver,receiver,duration,category\n"
        f"{dt.date.today()},alice,bob,1h,juggling\n"
        f"{dt.date.today()},alice,bob,1h,shopping\n"
        f"{dt.date.today()},alice,bob,,shopping\n"
    )
    before = snapshot_rows(ledger)
    with pytest.raises(csvio.ImportRefused) as caught:
        csvio.import_exchanges(ledger, path, actor="coord")
    problems = caught.value.problems
    assert [(p.index, p.field) for p in problems] == [(2, "category"), (4, "duration")]
    assert caught.value.errors == [csvio.describe_line(p) for p in problems]
    assert caught.value.errors[1].startswith("line 4, duration: ")
    assert snapshot_rows(ledger) == before


def test_a_dry_run_import_counts_and_leaves_the_ledger_as_it_was(ledger, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text(
        "date,giver,receiver,duration,category\n"
        + "".join(f"{dt.date.today()},alice,bob,30m,shopping\n" for _ in range(3))
    )
    members = tmp_path / "m.csv"
    members.write_text("handle,name,member_class\ndora,Dora,member\n")
    before = snapshot_rows(ledger)
    assert csvio.import_exchanges(ledger, path, actor="coord", dry_run=True) == 3
    assert csvio.import_members(ledger, members, actor="coord", dry_run=True) == 1
    assert snapshot_rows(ledger) == before


CORE_TABLES = (
    "entries|postings|balances|claims|claim_confirmations|members|member_changes|accounts|rules|period_closes"
)
# Restoring a bundle writes a whole ledger's rows verbatim, with no rules (storage/bundles.py).
WRITES_ELSEWHERE = {"storage/writes.py", "storage/store.py", "storage/bundles.py"}


# Every statement that changes rows: INSERT (OR REPLACE, OR IGNORE ...), REPLACE, UPDATE
# (OR ...), DELETE; any case, the table's name bare or quoted.
CORE_WRITE = re.compile(
    rf"\b(INSERT(\s+OR\s+\w+)?\s+INTO|REPLACE\s+INTO|UPDATE(\s+OR\s+\w+)?|DELETE\s+FROM)"
    rf"\s+[\"`\[]?({CORE_TABLES})\b",
    re.IGNORECASE,
)


def test_the_check_sees_every_kind_of_write_to_a_core_table():
    for statement in (
        "INSERT INTO entries VALUES (1)",
        "INSERT OR REPLACE INTO balances VALUES (1, 2)",
        "insert or ignore into members (handle) values ('x')",
        "REPLACE INTO accounts VALUES (1)",
        "UPDATE OR ROLLBACK claims SET status = 'x'",
        "DELETE FROM postings WHERE entry_id = 1",
        'DELETE FROM "rules"',
        "update\n  member_changes set x = 1",
    ):
        assert CORE_WRITE.search(statement), statement
    for harmless in ("SELECT * FROM entries", "DELETE FROM safeguarding_checks", "UPDATE extra_members"):
        assert not CORE_WRITE.search(harmless), harmless


def test_every_write_to_a_core_table_and_the_chain_head_is_in_storage_writes():
    package = Path(__file__).parent.parent / "timebank"
    for source in sorted(package.rglob("*.py")):
        name = source.relative_to(package).as_posix()
        text = source.read_text()
        if name not in WRITES_ELSEWHERE:
            assert not CORE_WRITE.search(text), f"{name} writes a core table itself"
        if name != "storage/reads.py":  # reads.chain_head, which the write path uses too
            assert "FROM entries ORDER BY id DESC LIMIT 1" not in text, f"{name} reads the chain head"
    pipeline = (package / "pipeline.py").read_text()
    assert "ledger._" not in pipeline and ".execute(" not in pipeline, "the pipeline reads no file"
    for caller in ("interchange/csvio.py", "claims.py", "members.py"):
        assert "._after(" not in (package / caller).read_text()


# The storage functions that write entries, and the one place that may call them.
ENTRY_WRITERS = {"write_drafts", "flush_balances", "WriteState"}
WRITES_MODULE = "timebank.storage.writes"


def _absolute(module: str, node: ast.ImportFrom) -> str:
    """The module an ``ImportFrom`` names, relative imports resolved against ``module``."""
    if not node.level:
        return node.module or ""
    base = module.split(".")[: -node.level]
    return ".".join([*base, node.module] if node.module else base)


def entry_writer_calls(module: str, source: str) -> list[str]:
    """Where ``source`` (the module ``module``) uses ``storage.writes``' entry writers: each
    as the qualified name of the function it is in."""
    tree = ast.parse(source)
    modules: set[str] = set()  # names bound to timebank.storage.writes
    functions: set[str] = set()  # entry writers imported by name
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == WRITES_MODULE and alias.asname:
                    modules.add(alias.asname)
        elif isinstance(node, ast.ImportFrom):
            where = _absolute(module, node)
            for alias in node.names:
                if f"{where}.{alias.name}" == WRITES_MODULE:
                    modules.add(alias.asname or alias.name)
                elif where == WRITES_MODULE and alias.name in ENTRY_WRITERS:
                    functions.add(alias.asname or alias.name)
    found: list[str] = []

    def visit(node: ast.AST, scope: tuple[str, ...]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                visit(child, (*scope, child.name))
                continue
            used = (
                isinstance(child, ast.Attribute)
                and child.attr in ENTRY_WRITERS
                and (
                    (isinstance(child.value, ast.Name) and child.value.id in modules)
                    or ast.unparse(child.value) == WRITES_MODULE
                )
            ) or (isinstance(child, ast.Name) and child.id in functions)
            if used:
                found.append(".".join(scope) or "<module>")
            visit(child, scope)

    visit(tree, ())
    return found


def test_entries_are_written_only_by_the_one_write_path():
    root = Path(__file__).parent.parent
    packages = {
        "timebank": root / "timebank",
        "timebank.plugins": root / "plugins",
        "timebank.tui": root / "tui",
    }
    callers = set()
    for package, folder in packages.items():
        for source in sorted(folder.rglob("*.py")):
            parts = source.relative_to(folder).with_suffix("").parts
            module = ".".join((package, *parts))
            if module == WRITES_MODULE:
                continue
            for where in entry_writer_calls(module, source.read_text("utf-8")):
                callers.add(f"{module}:{where}")
    assert callers == {
        "timebank.ledger:Ledger.write",  # the state the batches are written into
        "timebank.ledger:Ledger._admit_and_write",
    }


def test_the_entry_writer_check_sees_each_way_of_naming_it():
    source = textwrap.dedent(
        """
        from timebank.storage import writes
        from timebank.storage import writes as w
        from timebank.storage.writes import write_drafts as wd
        from . import writes as rel
        import timebank.storage.writes

        def a(): writes.write_drafts(s, [])
        def b(): w.flush_balances(s)
        def c(): wd(s, [])
        class K:
            def d(self): rel.write_drafts(s, [])
        def e(): timebank.storage.writes.WriteState(c, 1, f)
        def fine(ledger): ledger.write_drafts([])
        """
    )
    assert entry_writer_calls("timebank.storage.other", source) == ["a", "b", "c", "K.d", "e"]
