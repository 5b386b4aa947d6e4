"""Whether an import reproduces what an export recorded: refs and the postings of each row.

``export exchanges`` writes each exchange's refs (``han=riverside``) and the postings its
entry made (``alice=60;@chest=-60``, written by the export's query and read back by
``read_postings``). ``import exchanges`` passes the refs to the rules
and, where a file has a ``postings`` column, checks that the rules here make the same
postings. A row they would record differently (the chest paid there, but the donations
that funded it are not in the file; a member's flag differs; other weights) is named with
its line instead of being recorded silently another way. Drop the column to record the
exchanges as the rules here say.
"""

from __future__ import annotations

from timebank.errors import InputError
from timebank.models import Entry, Problem
from timebank.units import postings_text

REFS = "refs"
POSTINGS = "postings"


def read_refs(text: str) -> dict[str, str]:
    """``key=value;key=value`` as a dict; ``InputError`` names what is wrong."""
    refs = {}
    for pair in filter(None, (p.strip() for p in text.split(";"))):
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InputError(f"{pair!r} should be KEY=VALUE, e.g. han=riverside", field="refs")
        refs[key.strip()] = value.strip()
    return refs


def read_postings(text: str) -> tuple[tuple[str, int], ...]:
    """``account=minutes;...`` as pairs; ``InputError`` names what is wrong."""
    pairs = []
    for item in filter(None, (p.strip() for p in text.split(";"))):
        account, sep, amount = item.rpartition("=")
        try:
            pairs.append((account.strip(), int(amount)))
        except ValueError:
            sep = ""
        if not sep or not account.strip():
            raise InputError(f"{item!r} should be ACCOUNT=MINUTES, e.g. alice=60", field="postings")
    return tuple(pairs)


def difference(line: int, expected: tuple[tuple[str, int], ...], entry: Entry) -> Problem | None:
    """The error for a row the rules here record differently from the file (at its
    ``line``), or None."""
    made = tuple((p.account, p.amount) for p in entry.postings)
    if sorted(made) == sorted(expected):
        return None
    why = ""
    paid_there = {a for a, m in expected if a.startswith("@") and m < 0}
    paid_here = {a for a, m in made if a.startswith("@") and m < 0}
    if paid_there - paid_here:
        payers = ", ".join(sorted(paid_there - paid_here))
        why = f" ({payers} paid there; what funded it is not in this file)"
    return Problem(
        "error",
        "timebank",
        POSTINGS,
        f"the rules here would post {postings_text(made, nothing='no credits')}, "
        f"the file says {postings_text(expected, nothing='no credits')}{why}",
        line,
    )


__all__ = ["POSTINGS", "REFS", "difference", "read_postings", "read_refs"]
