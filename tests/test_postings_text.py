"""Postings are shown one way, by ``units.postings_text``: the CLI's messages and an
import's "would post ... the file says ..." alike."""

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
    message = difference(4, (("alice", 30), ("bob", -30)), entry)
    assert message == (
        f"line 4, postings: the rules here would post {postings_text(entry.postings)}, "
        "the file says alice +30m, bob -30m"
    )
    assert difference(4, (), entry).endswith("the file says no credits")
