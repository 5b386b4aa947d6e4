"""Hostile and broken input: one clear error naming line and field; the ledger file unchanged."""

import re

from click.testing import CliRunner
from conftest import SOAK
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from timebank.cli.main import cli
from timebank.errors import TimebankError
from timebank.interchange import csvio
from timebank.ledger import Ledger

HOSTILE = [
    "=cmd|' /C calc'!A0",
    "+SUM(A1:A9)",
    '@HYPERLINK("http://x")',
    "-1+1",
    "Robert'); DROP TABLE entries;--",
    "' OR 1=1 --",
    "\x00",
    "a\x07b",
    "\x1b[31mred",
    "line\rbreak",
    "x" * 20_000,
    "1e308",
    "nan",
    "inf",
    "-1",
    "0",
    "25h",
    "99999999999999999999",
    "1h61",
    "",
    " ",
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "31/12/2025",
    "\u202egnp.exe",
    "😀",
    "caf\u00e9",
]
FIELD = re.compile(r"line \d+, (date|giver|receiver|duration|category|note|row|[a-z_]+):")
EXAMPLES = 600 if SOAK else 150


def cell():
    return st.one_of(
        st.sampled_from(HOSTILE),
        st.sampled_from(["alice", "bob", "1h", "2026-01-05", "shopping"]),
        st.text(max_size=30),
    )


@st.composite
def csv_files(draw):
    header = ["date", "giver", "receiver", "duration", "category", "note"]
    rows = draw(st.lists(st.lists(cell(), min_size=6, max_size=7), min_size=1, max_size=6))
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    text = out.getvalue()
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "latin-1", "utf-16"]))
    return text.encode(encoding, errors="replace")


def bytes_of(path):
    return path.read_bytes()


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(content=csv_files())
def test_fuzzed_csv_import_refuses_clearly_and_changes_nothing(roomy_path, tmp_path_factory, content):
    before = bytes_of(roomy_path)
    source = tmp_path_factory.mktemp("csv") / "in.csv"
    source.write_bytes(content)
    with Ledger(roomy_path) as ledger:
        try:
            count = csvio.import_exchanges(ledger, source, actor="coord")
        except TimebankError as exc:
            message = str(exc)
            assert "\n" not in message.split(";")[0]
            assert (
                FIELD.search(message)
                or "UTF-8" in message
                or "line 1" in message
                or "empty" in message
                or "no rows" in message
            ), message
            failed = True
        else:
            failed = False
            assert count >= 1
    if failed:
        assert bytes_of(roomy_path) == before, "a refused import changed the ledger file"
    else:
        with Ledger(roomy_path) as ledger:
            assert ledger.verify().ok


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(duration=cell(), day=cell(), note=cell(), giver=cell())
def test_hostile_cli_arguments_get_one_sentence_and_change_nothing(roomy_path, duration, day, note, giver):
    before = bytes_of(roomy_path)
    result = CliRunner().invoke(
        cli,
        [
            "log",
            giver or "alice",
            "bob",
            duration,
            "-k",
            "shopping",
            "-d",
            day,
            "-n",
            note,
            "--as",
            "coord",
            "--ledger",
            str(roomy_path),
        ],
    )
    if result.exit_code == 0:
        return  # a valid exchange after all
    assert result.exit_code in (1, 2), result.output
    if result.exit_code == 1:
        lines = result.stderr.strip().splitlines()
        assert lines and all(
            line.startswith(("error: ", "warning: ", "nothing was written")) for line in lines
        )
        assert "Traceback" not in result.stderr
    assert bytes_of(roomy_path) == before


def test_sql_in_names_is_just_text(roomy):
    roomy.update_member("alice", actor="coord", name="Robert'); DROP TABLE entries;--")
    assert roomy.member("alice").name == "Robert'); DROP TABLE entries;--"
    assert roomy.conn.execute("SELECT count(*) FROM entries").fetchone()[0] == 0


def test_names_with_control_characters_are_refused(roomy):
    result = CliRunner().invoke(
        cli, ["member", "add", "eve", "Eve\x1b[31m", "--as", "coord", "--ledger", str(roomy.path)]
    )
    assert result.exit_code == 1 and "name: " in result.stderr and "control characters" in result.stderr


def test_exports_neutralise_formula_injection(roomy, tmp_path):
    from timebank.testing import exchange

    roomy.update_member("bob", actor="coord", name='=HYPERLINK("http://evil")')
    roomy.record(exchange("alice", "bob", 30, note="@SUM(1+1)*cmd|' /C calc'!A0"))
    out = tmp_path / "x.csv"
    with open(out, "w", newline="") as stream:
        csvio.export_exchanges(roomy, stream)
    with open(tmp_path / "m.csv", "w", newline="") as stream:
        csvio.export_members(roomy, stream)
    assert ",'@SUM(1+1)" in out.read_text()
    assert "'=HYPERLINK" in (tmp_path / "m.csv").read_text()


NOTES = ["ok", "two words", '"a, b"', '"over\ntwo lines"', '"say ""hi"""', "", "x" * 50]


@st.composite
def rows_with_stray_quotes(draw):
    """Rows written by hand: some notes gain a quote mark at the start, the end or inside."""
    notes = draw(st.lists(st.sampled_from(NOTES), min_size=2, max_size=25))
    for at in draw(st.lists(st.integers(0, len(notes) - 1), min_size=1, max_size=3)):
        notes[at] = draw(st.sampled_from(['"{}', '{}"', 'a"{}', '"{}"x'])).format(notes[at])
    pairs = [("alice", "bob"), ("bob", "carol"), ("carol", "dan"), ("dan", "alice")]
    lines = [
        f"2026-01-05,{pairs[i % 4][0]},{pairs[i % 4][1]},30m,shopping,{n}\n" for i, n in enumerate(notes)
    ]
    return len(notes), "date,giver,receiver,duration,category,note\n" + "".join(lines)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=rows_with_stray_quotes())
def test_stray_quotes_never_merge_rows_silently(roomy_path, tmp_path_factory, case):
    """A quote typed at the start of a note once read every later row into that note: either the
    file is refused at a line, or each of its rows is one exchange."""
    rows, text = case
    source = tmp_path_factory.mktemp("quotes") / "in.csv"
    source.write_text(text)
    with Ledger(roomy_path) as ledger:
        try:
            count = csvio.import_exchanges(ledger, source, actor="coord", dry_run=True)
        except TimebankError as exc:
            assert FIELD.search(str(exc)), str(exc)
        else:
            assert count == rows, text
