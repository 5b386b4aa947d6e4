"""CSV import and export: checked whole, all rows or none, formula-safe."""

import hashlib

import pytest
from helpers import exchange

from timebank import csvio
from timebank.errors import InputError, NotAllowed


def write(tmp_path, text, name="in.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def file_digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


GOOD = (
    "date,giver,receiver,duration,category,note\n"
    "2026-01-05,alice,bob,1h30,shopping,weekly shop\n"
    "2026-01-06,bob,alice;carol,1:00,transport,lift\n"
    "2026-01-07,carol,alice,45m,companionship,\n"
)


def test_import_exchanges_through_the_rules(ledger, tmp_path):
    count = csvio.import_exchanges(ledger, write(tmp_path, GOOD), actor="coord")
    assert count == 3
    assert (ledger.balance("alice"), ledger.balance("bob"), ledger.balance("carol")) == (
        90 - 30 - 45,
        -90 + 60,
        -30 + 45,
    )
    assert ledger.verify().ok


def test_every_bad_row_is_named_and_nothing_is_written(ledger, tmp_path, ledger_path):
    ledger.record(exchange())
    ledger.close()
    before = file_digest(ledger_path)
    from timebank.ledger import Ledger

    bad = GOOD + (
        "2026-01-08,alice,zed,1h,shopping,\n"
        "2026-13-01,alice,bob,1h,shopping,\n"
        "2026-01-09,alice,bob,1e308,shopping,\n"
        "2026-01-09,alice,bob,1h,juggling,\n"
    )
    with Ledger(ledger_path) as led, pytest.raises(csvio.ImportRefused) as caught:
        csvio.import_exchanges(led, write(tmp_path, bad), actor="coord")
    errors = caught.value.errors
    assert errors == [
        "line 5, receiver: no member has the handle 'zed'",
        "line 6, date: '2026-13-01' is not a date; try today, yesterday, -2, saturday, last sat,"
        " 21/11, 21 Nov or 2026-11-21",
        "line 7, duration: '1e308' is not a duration; try 1.5, 1h30, 90m or 1:30",
        "line 8, category: 'juggling' is not a kind of care here (kinds: companionship, shopping,"
        " transport, gardening, household, personal care, admin help, other)",
    ]
    assert str(caught.value).startswith(
        "in.csv: nothing was imported; line 5"
    ) or "nothing was imported" in str(caught.value)
    assert file_digest(ledger_path) == before


def test_dry_run_checks_and_writes_nothing(ledger, tmp_path):
    assert csvio.import_exchanges(ledger, write(tmp_path, GOOD), actor="coord", dry_run=True) == 3
    assert ledger.conn.execute("SELECT count(*) FROM entries").fetchone()[0] == 0


def test_only_a_coordinator_imports(ledger, tmp_path):
    with pytest.raises(NotAllowed, match="only a co-ordinator may import"):
        csvio.import_exchanges(ledger, write(tmp_path, GOOD), actor="alice")


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"", "the file is empty"),
        (b"when,who\n2026-01-01,alice\n", "missing column 'date'"),
        (
            "date,giver,receiver,duration,category,note\n2026-01-05,alice,bob,1h,shopping,caf\xe9\n".encode(
                "latin-1"
            ),
            "not UTF-8",
        ),
        (
            b"date,giver,receiver,duration,category,note\n2026-01-05,alice,bob,1h,shopping,a\x07b\n",
            "line 2, note: 'a\\x07b' contains control characters",
        ),
        (
            b"date,giver,receiver,duration,category,note\n2026-01-05,alice,bob,1h,shopping,x,extra\n",
            "line 2, row: has more cells",
        ),
    ],
)
def test_broken_files_get_one_clear_error(ledger, tmp_path, content, fragment):
    with pytest.raises((InputError, csvio.ImportRefused)) as caught:
        csvio.import_exchanges(ledger, write(tmp_path, content), actor="coord")
    assert fragment in str(caught.value)
    assert ledger.conn.execute("SELECT count(*) FROM entries").fetchone()[0] == 0


def test_import_members_all_or_nothing(ledger, tmp_path):
    good = "handle,name,member_class,joined,area\ndora,Dora Diaz,member,2025-01-01,north\n"
    assert csvio.import_members(ledger, write(tmp_path, good), actor="coord") == 1
    assert ledger.member("dora").area == "north"
    bad = (
        "handle,name,member_class\neve,Eve,member\nFrank!,Frank,member\ngus,Gus,wizard\n"
        "eve,Eve again,member\n"
    )
    with pytest.raises(csvio.ImportRefused) as caught:
        csvio.import_members(ledger, write(tmp_path, bad, "m.csv"), actor="coord")
    assert [e.split(",")[0] for e in caught.value.errors] == ["line 3", "line 4", "line 5"]
    assert "'Frank!' is not a handle" in caught.value.errors[0]
    assert "'wizard' is not a member class" in caught.value.errors[1]
    assert "eve" not in ledger.members_by_handle()


def test_export_neutralises_formulas_and_imports_back(ledger, tmp_path):
    ledger.record(exchange(note="=cmd|' /C calc'!A0"))
    ledger.record(exchange(note="+1 and -1"))
    reversed_entry = ledger.record(exchange(note="mistake"))
    ledger.reverse(reversed_entry.id, reason="typo", actor="coord")
    out = tmp_path / "out.csv"
    with open(out, "w", newline="") as stream:
        assert csvio.export_exchanges(ledger, stream) == 2
    text = out.read_text()
    assert "'=cmd|" in text and "'+1 and -1" in text and "mistake" not in text
    from timebank.ledger import Ledger

    with Ledger.create(tmp_path / "copy.sqlite") as copy:
        import datetime as dt

        from helpers import add_members

        from timebank.models import Member

        copy.add_member(
            Member("coord", "C", "member", dt.date(2024, 1, 1), role="coordinator"), actor="system"
        )
        add_members(copy, "alice", "bob")
        csvio.import_exchanges(copy, out, actor="coord")
        assert [e.note for e in copy.entries()] == ["+1 and -1", "=cmd|' /C calc'!A0"]


def test_columns_in_any_order_without_a_note_and_short_rows(ledger, tmp_path):
    """Columns are found by name; a file may leave out the note; a short row's missing cells are empty."""
    text = (
        "Category,Duration,Receiver,Giver,Date\n"
        "shopping,1h,bob,alice,2026-01-05\n"
        "transport,30m,alice,bob,2026-01-06\n"
    )
    assert csvio.import_exchanges(ledger, write(tmp_path, text), actor="coord") == 2
    assert (ledger.balance("alice"), ledger.balance("bob")) == (30, -30)
    with pytest.raises(csvio.ImportRefused) as caught:
        csvio.import_exchanges(
            ledger,
            write(tmp_path, "date,giver,receiver,duration,category,note\n2026-01-05,alice,bob\n"),
            actor="coord",
        )
    assert caught.value.errors[0].startswith("line 2, duration: '' is not a duration")
