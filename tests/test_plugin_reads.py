"""Plugins read the ledger through ``ledger.read`` and their own tables through
``ledger.plugin_tables``: never SQL on a core table, never the connection, never the storage layer.

The first half is a static check of every module under ``plugins/`` (and a proof, on planted
sources, that it catches what it is meant to). The second half runs the read API and the
own-tables handle against real ledger files.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
import sqlite3
from pathlib import Path

import pytest

from timebank import hookimpl, plugin_manager
from timebank.errors import PluginFailed
from timebank.interchange.bundle import restore_bundle, write_bundle
from timebank.plugin_manager import PLUGINS_DIR_ENV, Plugins
from timebank.read_api import Counterpart, Flow, Given
from timebank.storage import store
from timebank.storage.store import MIGRATIONS
from timebank.testing import exchange, snapshot_rows

PLUGINS = Path(__file__).resolve().parent.parent / "plugins"
D = dt.date(2026, 3, 2)


def core_tables() -> set[str]:
    """Every table the core's migrations create or rename to: the plugins' no-go list."""
    names: set[str] = set()
    for _, _, sql in MIGRATIONS:
        names.update(re.findall(r"CREATE\s+(?:VIRTUAL\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", sql, re.I))
        for pair in re.findall(r"ALTER\s+TABLE\s+(\w+)\s+RENAME\s+TO\s+(\w+)", sql, re.I):
            names.update(pair)
    return {n.lower() for n in names if not n.startswith("_")}


CORE = core_tables()
# SQL that names a table: read (FROM, JOIN), write (INTO, UPDATE, DELETE FROM), or change it
# (TABLE, INDEX ... ON, TRIGGER ... ON). A foreign key (REFERENCES entries(id)) in a plugin's
# own table is allowed: it names the core's key, it reads nothing.
SQL_TABLE = re.compile(
    r"\b(?:from|join|into|update|table|(?:index|trigger)\s+(?:if\s+not\s+exists\s+)?[\w.]+\s+"
    r"(?:(?:before|after|instead\s+of)\s+)?(?:(?:insert|update|delete)\s+)?on)"
    r"\s+(?:if\s+(?:not\s+)?exists\s+)?[\"'`\[]?(?:main\.)?(\w+)",
    re.I,
)


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of docstring nodes: documentation, where "a floor on members' balances" is prose."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _texts(tree: ast.AST) -> list[tuple[int, str]]:
    """Every string literal, with each f-string's pieces joined around a placeholder."""
    found = []
    skip = _docstrings(tree)  # and the pieces of f-strings, read whole below
    skip.update(id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values)
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.JoinedStr):
            parts = [
                v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else " x "
                for v in node.values
            ]
            found.append((node.lineno, "".join(parts)))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, node.value))
    return found


def violations(source: str, name: str = "plugin.py") -> list[str]:
    """What a plugin module does that only the core may: each as ``name:line: what``."""
    tree = ast.parse(source)
    out = []
    for line, text in _texts(tree):
        for table in SQL_TABLE.findall(text):
            if table.lower() in CORE:
                out.append(f"{name}:{line}: SQL on the core table {table!r}")
        if "timebank.storage" in text:
            out.append(f"{name}:{line}: names the storage layer")
        if text in ("conn", "store"):
            out.append(f"{name}:{line}: reaches for {text!r} by name")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("conn", "store"):
            out.append(f"{name}:{node.lineno}: touches .{node.attr}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("timebank.storage"):
                    out.append(f"{name}:{node.lineno}: imports {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            names = {a.name for a in node.names}
            if module.startswith("timebank.storage") or (module == "timebank" and "storage" in names):
                out.append(f"{name}:{node.lineno}: imports from {module}")
            elif node.level and ("storage" in module or "storage" in names):
                out.append(f"{name}:{node.lineno}: imports the storage layer relatively")
    return out


def test_the_core_table_list_comes_from_the_migrations():
    assert {
        "entries",
        "postings",
        "balances",
        "accounts",
        "members",
        "claims",
        "rules",
        "period_closes",
    } <= CORE
    assert {"listings", "publications", "member_pins"} <= CORE
    storage = store.core_tables()  # the storage layer's own list, bracketed names too
    assert storage >= CORE and "listings_fts" in storage
    assert store.is_core_table("listings_fts_data") and store.is_core_table("sqlite_sequence")
    assert not store.is_core_table("han_groups")


def test_no_plugin_runs_sql_on_a_core_table_or_touches_the_storage_layer():
    modules = sorted(PLUGINS.rglob("*.py"))
    assert len(modules) > 10
    found = [v for path in modules for v in violations(path.read_text(), path.name)]
    assert found == []


PLANTED = {
    "plain": 'rows = tables.execute("SELECT * FROM entries")',
    "lower case, joined": "q = ('select e.day from postings p '\n     'join entries e on e.id = p.entry_id')",
    "f-string": 'q = f"SELECT {col} FROM Members WHERE handle = ?"',
    "f-string table after placeholder": 'q = f"SELECT count(*) FROM {schema}.x JOIN balances b ON 1"',
    "write": 'SQL = "insert into period_closes (through) values (?)"',
    "update": "SQL = 'UPDATE claims SET status = ?'",
    "delete": "SQL = 'DELETE FROM rules'",
    "quoted name": 'SQL = "SELECT * FROM \\"accounts\\""',
    "a core table's index": 'SQL = "CREATE INDEX i ON listings(member)"',
    "a trigger on a core table": "SQL = 'CREATE TRIGGER t AFTER INSERT ON entries BEGIN SELECT 1; END'",
    "a string that is not a docstring": 'def f():\n    x = 1\n    "SELECT * FROM entries"',
    "the connection": "ledger.conn.execute('SELECT 1')",
    "the store": "ledger.store.db.query('SELECT 1')",
    "getattr": "getattr(ledger, 'conn')",
    "import": "import timebank.storage.store",
    "import from": "from timebank.storage.store import STANDING",
    "import the package": "from timebank import storage",
    "relative import": "from ..storage import store",
    "importlib": "importlib.import_module('timebank.storage.getters')",
}


@pytest.mark.parametrize("source", PLANTED.values(), ids=PLANTED.keys())
def test_the_check_catches_a_planted_violation(source):
    assert violations(source), source


def test_the_check_catches_a_violation_planted_in_a_real_plugin():
    source = (PLUGINS / "solidarity_coop.py").read_text()
    planted = source.replace(
        "    for service in ledger.read.services():",
        '    q = f"SELECT e.minutes FROM entries e WHERE {1}"\n    for service in ledger.read.services():',
    )
    assert planted != source
    assert violations(source) == []
    [found] = violations(planted)
    assert found.endswith("SQL on the core table 'entries'")


def test_words_in_messages_are_not_sql():
    assert violations('msg = f"{name} gave on {day}; a floor on members, updated by the group"') == []
    assert violations('def f():\n    """Reads the day from entries, as a person would say it."""') == []
    assert violations('"CREATE TABLE IF NOT EXISTS han_members (grp TEXT REFERENCES entries(id))"') == []


# the read API, on real ledgers ---------------------------------------------------


@pytest.fixture
def coop(make_ledger):
    return make_ledger("time-bank", members={h: "member" for h in ("alice", "bob", "carol")})


def record(ledger, *args, **kwargs):
    entry = ledger.record(exchange(*args, **kwargs), acknowledge=True)
    assert hasattr(entry, "postings"), entry  # written, not waiting as a claim
    return entry


def test_minutes_given_by_day_counts_standing_services(coop):
    record(coop, "alice", "bob", 90, day=D)
    record(coop, "alice,carol", "bob", 30, day=D)
    wrong = record(coop, "bob", "carol", 60, day=D)
    coop.reverse(wrong.id, reason="typo", actor="coord")
    record(coop, "bob", "alice", 45, day=D + dt.timedelta(days=1))
    assert coop.read.minutes_given_by_day([D]) == {"2026-03-02": {"alice": 120, "carol": 30}}
    only = coop.read.minutes_given_by_day([D, D + dt.timedelta(days=1)], {"bob"})
    assert only["2026-03-03"] == {"bob": 45}
    assert only["2026-03-02"].get("bob", 0) == 0


def test_minutes_given_by_day_across_batches_catches_up_and_forgets_a_rollback(coop):
    record(coop, "alice", "bob", 60, day=D)
    with coop.transaction():
        assert coop.read.minutes_given_by_day([D], across_batches=True) == {"2026-03-02": {"alice": 60}}
        record(coop, "carol", "bob", 15, day=D)
        assert coop.read.minutes_given_by_day([D], across_batches=True) == {
            "2026-03-02": {"alice": 60, "carol": 15}
        }
    with pytest.raises(RuntimeError), coop.transaction():
        record(coop, "bob", "alice", 20, day=D)
        assert coop.read.minutes_given_by_day([D], across_batches=True)["2026-03-02"]["bob"] == 20
        raise RuntimeError("rolled back")
    with coop.transaction():
        assert coop.read.minutes_given_by_day([D], across_batches=True) == {
            "2026-03-02": {"alice": 60, "carol": 15}
        }


def test_services_totals_and_last_days(coop):
    record(coop, "alice", "bob", 60, day=D, category="shopping")
    record(coop, "alice,carol", "bob", 30, day=D + dt.timedelta(days=40), category="gardening")
    gone = record(coop, "bob", "carol", 60, day=D + dt.timedelta(days=41), category="gardening")
    coop.reverse(gone.id, reason="typo", actor="coord")
    services = list(coop.read.services())
    assert [(s.day, s.givers, s.receivers, s.minutes, s.category) for s in services] == [
        (D, ("alice",), ("bob",), 60, "shopping"),
        (D + dt.timedelta(days=40), ("alice", "carol"), ("bob",), 30, "gardening"),
    ]
    assert [s.day for s in coop.read.services(before=D + dt.timedelta(days=40), newest_first=True)] == [D]
    assert [s.minutes for s in coop.read.services(since=D + dt.timedelta(days=1))] == [30]
    assert coop.read.minutes_given_by_category() == [Given("gardening", 60, 1), Given("shopping", 60, 1)]
    assert coop.read.minutes_given_by_month(D, D + dt.timedelta(days=30)) == [Given("2026-03", 60, 1)]
    assert coop.read.minutes_given_since(D + dt.timedelta(days=1)) == {"alice": 30, "carol": 30}
    last = coop.read.last_day_gave()
    assert last["alice"] == D + dt.timedelta(days=40) and last["coord"] is None
    assert last["bob"] == D + dt.timedelta(days=41)  # as recorded: the reversed one counts here


def test_postings_by_account_and_kind(coop):
    record(coop, "alice", "bob", 60, day=D)
    coop.transfer("bob", "@coop", 20, actor="coord", note="a gift")
    assert coop.read.credited(["alice", "bob", "nobody"], kind="service") == {"alice": 60}
    today = dt.date.today()
    assert coop.read.first_payment("bob", "@coop", kind="transfer") == today
    assert coop.read.first_payment("alice", "@coop", kind="transfer") is None
    assert coop.read.counterparts("@coop", through=today) == [Counterpart(today, 20, "bob")]
    assert coop.read.shared_flows(today, today) == {"@coop": Flow(20, 0)}
    assert coop.read.balance("@coop") == 20
    assert dict((a.code, b) for a, b in coop.read.balances())["bob"] == -80
    assert coop.read.count_services_with_ref("episode", "1") == 0
    assert coop.read.last_close() is None


# a plugin's own tables -------------------------------------------------------------


@pytest.fixture
def han(make_ledger):
    return make_ledger("han-group", members={h: "member" for h in ("aiko", "ben", "chie")})


def test_own_tables_are_the_ones_a_plugin_declares(han):
    tables = han.plugin_tables("han_group")
    assert tables.tables == {"han_groups", "han_members"} and tables.exist()
    assert tables.query("SELECT count(*) AS n FROM han_groups") == [{"n": 0}]
    assert han.plugin_tables("classic").tables == frozenset()


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM entries",
        "SELECT name FROM han_groups WHERE leader IN (SELECT handle FROM members)",
        "SELECT grp FROM han_members JOIN postings ON 1",
        "SELECT name FROM sqlite_master",
        "PRAGMA writable_schema = 1",
        "ATTACH DATABASE ':memory:' AS other",
        "DROP TABLE han_members",
        "CREATE TABLE han_extra (x)",
        "CREATE TRIGGER t AFTER INSERT ON han_groups BEGIN DELETE FROM members; END",
    ],
)
def test_own_tables_refuse_any_other_table(han, sql):
    before = snapshot_rows(han)
    with (
        han.transaction(),
        pytest.raises(PluginFailed, match="may only read and write rows of its own tables"),
    ):
        han.plugin_tables("han_group").execute(sql)
    assert snapshot_rows(han) == before
    assert han.plugin_tables("han_group").query("SELECT 1 AS one") == [{"one": 1}]  # the handle is not stuck


def test_own_tables_write_only_inside_a_transaction(han):
    tables = han.plugin_tables("han_group")
    with pytest.raises(PluginFailed, match=r"inside ledger\.transaction\(\)"):
        tables.execute("INSERT INTO han_groups (name, leader) VALUES ('x', 'aiko')")
    with han.transaction():
        with pytest.raises(PluginFailed):
            tables.execute("DELETE FROM members")
        tables.execute("INSERT INTO han_groups (name, leader) VALUES ('x', 'aiko')")
    assert tables.query("SELECT name FROM han_groups") == [{"name": "x"}]


def test_a_foreign_key_to_a_core_table_is_checked_but_not_readable(make_ledger):
    led = make_ledger("friendly-society", members={"alice": "member"})
    tables = led.plugin_tables("friendly_society")
    assert ("entries", "id") in tables.references
    with pytest.raises(PluginFailed):
        tables.query("SELECT note FROM entries")
    with led.transaction(), pytest.raises(Exception, match="FOREIGN KEY"):
        tables.execute(
            "INSERT INTO friendly_claims (member, start, days, reduced_days, amount, entry_id, created_at)"
            " VALUES ('alice', '2026-01-01', 3, 0, 60, 999, 'now')"
        )


def test_a_statement_the_core_prepared_is_checked_again_for_a_plugin(han):
    """sqlite3 caches statements by their text: one the core ran must not pass unchecked."""
    han.conn.execute("SELECT * FROM entries").fetchall()
    with pytest.raises(PluginFailed):
        han.plugin_tables("han_group").query("SELECT * FROM entries")
    assert han.conn.execute("SELECT count(*) FROM entries").fetchone()[0] >= 0  # the core's reads go on


# a plugin playing the attacker -------------------------------------------------------


class Declares:
    """A plugin that declares whatever statements it is given."""

    def __init__(self, *statements: str):
        self.statements = list(statements)

    @hookimpl
    def declare_tables(self, settings):
        return self.statements


def with_plugin(make_ledger, name, *statements, template="friendly-society"):
    """A ledger (with a PIN stored for alice) on which ``name`` is installed, declaring ``statements``."""
    plugins = Plugins(entry_points=False)
    plugins.register(Declares(*statements), name)
    led = make_ledger(template, members={"alice": "member", "bob": "member"}, plugins=plugins)
    led.issue_code("alice", actor="coord")
    return led


def test_a_foreign_key_declared_to_a_core_column_does_not_open_it_to_reads(make_ledger):
    led = with_plugin(
        make_ledger,
        "x",
        "CREATE TABLE IF NOT EXISTS x_p"
        " (h TEXT REFERENCES member_pins(hash), m TEXT REFERENCES member_pins(member))",
    )
    led.change_settings("x", {}, actor="coord")
    tables = led.plugin_tables("x")
    assert ("member_pins", "hash") in tables.references  # declared, and in the file
    with pytest.raises(PluginFailed, match="may only read and write rows of its own tables"):
        tables.query("SELECT member, hash FROM member_pins")
    with led.transaction(), pytest.raises(PluginFailed):
        tables.execute("INSERT INTO x_p (h, m) SELECT hash, member FROM member_pins")
    assert tables.query("SELECT * FROM x_p") == []


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT max(id) FROM entries",
        "SELECT id FROM entries ORDER BY id DESC LIMIT 1",
        "SELECT id FROM entries WHERE id IN (SELECT entry_id FROM friendly_claims)",
        "INSERT INTO friendly_claims (member, start, days, reduced_days, amount, entry_id, created_at)"
        " SELECT 'alice', '2026-01-01', 1, 0, id, id, 'now' FROM entries",
        "INSERT INTO friendly_claims (member, start, days, reduced_days, amount, entry_id, created_at)"
        " VALUES ('alice', '2026-01-01', 1, 0, (SELECT max(id) FROM entries), 1, 'now')",
        "WITH e AS (SELECT max(id) AS id FROM entries) INSERT INTO friendly_claims"
        " (member, start, days, reduced_days, amount, entry_id, created_at)"
        " SELECT 'alice', '2026-01-01', 1, 0, id, id, 'now' FROM e",
        "UPDATE friendly_claims SET amount = e.id FROM entries e WHERE e.id = friendly_claims.entry_id",
        "UPDATE friendly_claims SET amount = (SELECT max(id) FROM entries)",
        "DELETE FROM friendly_claims WHERE entry_id IN (SELECT id FROM entries)",
    ],
)
def test_friendly_societys_foreign_key_reads_entries_only_to_check_a_row(make_ledger, sql):
    led = make_ledger("friendly-society", members={"alice": "member", "bob": "member"})
    led.record(exchange("alice", "bob", 60, category="errands"), acknowledge=True)
    tables = led.plugin_tables("friendly_society")
    with led.transaction():  # a real row, so the UPDATE and DELETE have one to work on
        tables.execute(
            "INSERT INTO friendly_claims (member, start, days, reduced_days, amount, entry_id, created_at)"
            " VALUES ('alice', '2026-01-01', 3, 0, 60, 1, 'now')"
        )
    before = snapshot_rows(led)
    with (
        led.transaction(),
        pytest.raises(PluginFailed, match="may only read and write rows of its own tables"),
    ):
        tables.execute(sql)
    assert snapshot_rows(led) == before
    with led.transaction():  # the foreign key check itself still runs
        tables.execute("UPDATE friendly_claims SET entry_id = 1, amount = 30")
    assert tables.query("SELECT amount, entry_id FROM friendly_claims") == [{"amount": 30, "entry_id": 1}]


@pytest.mark.parametrize(
    ("statement", "why"),
    [
        ("CREATE TABLE IF NOT EXISTS members (x)", "declares 'members', a core table"),
        ("CREATE TABLE IF NOT EXISTS main.members (x)", "declares 'members', a core table"),
        ("CREATE TABLE IF NOT EXISTS listings_fts_data (x)", "declares 'listings_fts_data', a core table"),
        (
            "CREATE TABLE IF NOT EXISTS han_groups (x)",
            "declares 'han_groups', a table of the plugin 'han_group'",
        ),
        ("CREATE INDEX IF NOT EXISTS p_i ON members(handle)", "indexes 'members', a core table"),
        (
            "CREATE TRIGGER IF NOT EXISTS p_t AFTER INSERT ON entries BEGIN DELETE FROM member_pins; END",
            "not CREATE TRIGGER",
        ),
        ("CREATE TEMP TABLE IF NOT EXISTS entries (id)", "not in 'temp'"),
        ("CREATE VIEW IF NOT EXISTS p_v AS SELECT 1", "not CREATE VIEW"),
        (
            "CREATE TABLE IF NOT EXISTS p_copy AS SELECT * FROM member_pins",
            "reads 'member_pins', a core table",
        ),
        ("ATTACH DATABASE ':memory:' AS p_other", "not ATTACH"),
        ("PRAGMA foreign_keys = OFF", "not PRAGMA"),
    ],
)
def test_declarations_make_only_the_plugins_own_tables(make_ledger, statement, why):
    led = with_plugin(make_ledger, "p", "CREATE TABLE IF NOT EXISTS p_rows (x)", statement)
    before = snapshot_rows(led)
    version = led.rules.version
    with pytest.raises(PluginFailed, match=rf"plugin 'p' failed in declare_tables: .*{re.escape(why)}"):
        led.change_settings("p", {}, actor="coord")
    assert snapshot_rows(led) == before and led.rules.version == version
    assert "p_rows" not in snapshot_rows(led)  # nothing of it was made


def test_a_plugin_may_declare_its_own_tables_and_indexes(make_ledger):
    led = with_plugin(
        make_ledger,
        "p",
        "CREATE TABLE IF NOT EXISTS p_rows (id INTEGER PRIMARY KEY AUTOINCREMENT, entry_id INTEGER"
        " REFERENCES entries(id), at TEXT NOT NULL DEFAULT (datetime('now')), UNIQUE (entry_id))",
        "CREATE INDEX IF NOT EXISTS p_rows_by_at ON p_rows(at)",
    )
    led.change_settings("p", {}, actor="coord")
    led.change_settings("p", {}, actor="coord")  # run again: IF NOT EXISTS
    with led.transaction():
        assert led.plugin_tables("p").execute("INSERT INTO p_rows (entry_id) VALUES (NULL)").lastrowid == 1


def test_a_core_table_a_plugin_declares_is_never_its_own(make_ledger):
    """Even installed and never enabled, ``IF NOT EXISTS`` on a core name claims nothing."""
    led = with_plugin(
        make_ledger,
        "p",
        "CREATE TABLE IF NOT EXISTS members (x)",
        "CREATE TABLE IF NOT EXISTS han_groups (x)",
    )
    tables = led.plugin_tables("p")
    assert tables.tables == {"han_groups"}  # plugins are not kept from each other's tables
    before = snapshot_rows(led)
    with led.transaction(), pytest.raises(PluginFailed):
        tables.execute("UPDATE members SET role = 'coordinator' WHERE handle = 'alice'")
    assert snapshot_rows(led) == before
    assert led.plugin_tables("han_group").tables == {"han_groups", "han_members"}  # the real owner's


def test_own_tables_give_back_rows_never_the_cursor(han):
    tables = han.plugin_tables("han_group")
    result = tables.execute("SELECT 1")
    assert not isinstance(result, sqlite3.Cursor) and not hasattr(result, "connection")
    assert result.fetchone() == (1,) and result.fetchall() == [(1,)] and list(result) == [(1,)]
    assert isinstance(tables.query("SELECT 1 AS one"), list)
    with han.transaction():
        written = tables.execute("INSERT INTO han_groups (name, leader) VALUES ('x', 'aiko')")
        assert (written.lastrowid, written.rowcount, written.fetchall()) == (1, 1, [])


@pytest.mark.parametrize(
    "sql",
    [
        "WITH q AS (SELECT 'x', 'aiko') INSERT INTO han_groups SELECT * FROM q",
        "WITH q AS (SELECT 1) UPDATE han_groups SET leader = 'ben'",
        "WITH q AS (SELECT 1) DELETE FROM han_groups",
        " insert into han_groups (name, leader) values ('x', 'aiko')",
    ],
)
def test_own_tables_refuse_a_write_outside_a_transaction_however_it_starts(han, sql):
    tables = han.plugin_tables("han_group")
    with han.transaction():
        tables.execute("INSERT INTO han_groups (name, leader) VALUES ('y', 'chie')")
    before = snapshot_rows(han)
    with pytest.raises(PluginFailed, match=r"inside ledger\.transaction\(\)"):
        tables.execute(sql)
    assert not han.conn.in_transaction
    assert snapshot_rows(han) == before


def test_a_restore_refuses_a_plugin_that_now_declares_a_core_table(make_ledger, tmp_path, monkeypatch):
    """The plugin was harmless when the ledger was bundled; the version installed at restore
    claims ``members``. The restore names it and leaves no file."""
    folder = tmp_path / "plugins"
    folder.mkdir()
    plugin = folder / "notes_p.py"
    harmless = (
        "from timebank import hookimpl\n\n\n@hookimpl\ndef declare_tables(settings):\n"
        "    return ['CREATE TABLE IF NOT EXISTS notes_p (x)']\n"
    )
    plugin.write_text(harmless)
    monkeypatch.setenv(PLUGINS_DIR_ENV, str(folder))
    led = make_ledger("time-bank", members={"alice": "member"}, plugins=Plugins(entry_points=False))
    led.change_settings("notes_p", {}, actor="coord")
    assert led.plugin_tables("notes_p").exist()
    bundle = tmp_path / "coop.json"
    with bundle.open("w") as out:
        write_bundle(led, out)
    plugin.write_text(harmless.replace("notes_p (x)", "members (role)"))  # another size: no stale .pyc
    fresh = tmp_path / "fresh.sqlite"
    monkeypatch.setattr(plugin_manager, "_default", None)  # the process's plugins, loaded afresh
    with pytest.raises(
        PluginFailed, match="plugin 'notes_p' failed in declare_tables: it declares 'members', a core table"
    ):
        restore_bundle(bundle, fresh, actor="coord")
    assert not fresh.exists()
    plugin.write_text(harmless)
    monkeypatch.setattr(plugin_manager, "_default", None)
    restore_bundle(bundle, fresh, actor="coord")  # the harmless version restores
    assert fresh.exists()
