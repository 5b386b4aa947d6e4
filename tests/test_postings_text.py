"""Postings are shown one way, by ``units.postings_text``: the CLI's messages and an
import's "would post ... the file says ..." alike."""

from timebank.interchange.csvio import describe_line
from timebank.interchange.reproduce import difference, read_postings
from timebank.models import Posting
from timebank.units import postings_text


def test_postings_and_pairs_read_the_same():
    postings = (Posting("alice", 90), Posting("@chest", -90))
    assert postings_text(postings) == "alice +1h30, @chest -1h30"
    assert postings_text(read_postings("alice=90;@chest=-90")) == postings_text(postings)
    assert postings_text(()) == "no credits move (recorded for reporting)"
    assert postings_text((), nothing="no credits") == "no credits"


def test_an_import_names_a_difference_in_the_same_words(ledger):
    from helpers import exchange

    entry = ledger.record(exchange())
    problem = difference(4, (("alice", 30), ("bob", -30)), entry)
    assert (problem.index, problem.severity) == (4, "error")  # a Problem at its line
    assert describe_line(problem) == (
        f"line 4, postings: the rules here would post {postings_text(entry.postings)}, "
        "the file says alice +30m, bob -30m"
    )
    assert describe_line(difference(4, (), entry)).endswith("the file says no credits")


def test_the_exports_postings_column_is_read_postings_form_not_postings_text(ledger):
    """``storage.exchanges.exported_exchanges`` writes postings for ``read_postings`` to read
    back (``alice=60;bob=-60``), and says so; ``postings_text`` is for people."""
    from helpers import exchange

    from timebank.storage import exchanges

    entry = ledger.record(exchange(minutes=90))
    (row,) = list(exchanges.exported_exchanges(ledger.conn))
    assert row[-1] == ";".join(f"{p.account}={p.amount}" for p in entry.postings)
    assert read_postings(row[-1]) == tuple((p.account, p.amount) for p in entry.postings)
    assert row[-1] != postings_text(entry.postings)
    doc = " ".join(exchanges.exported_exchanges.__doc__.split())
    assert "read_postings" in doc and "postings_text's form)" not in doc
