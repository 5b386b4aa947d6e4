"""``verify``: prove the ledger is what its entries say, or name the first entry that is not.

It recomputes, in one pass over entries and postings in id order:
the hash chain (each entry's hash and its link to the one before), that each
entry's postings sum to zero, each posting's stored running balance, and at the
end that the balances table equals the sum of postings for every account.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from timebank.chain import ENTRY_FIELDS, GENESIS, entry_hash
from timebank.storage.anchors import anchor_path, ledger_id, read_anchor_file
from timebank.storage.rows import ENTRY_COLUMNS, columns

# Where each field sits in a row selected in ``ENTRY_COLUMNS`` order (the hashed fields as
# stored, then the chain), looked up by name once rather than per entry.
_HASHED = len(ENTRY_FIELDS)
_ID, _PREV_HASH, _HASH = (ENTRY_COLUMNS.index(name) for name in ("id", "prev_hash", "hash"))

if TYPE_CHECKING:
    from timebank.ledger import Ledger


@attrs.frozen
class Report:
    """The outcome of ``verify``: ``ok``, how much was checked, and the first failure."""

    entries: int
    postings: int
    accounts: int
    first_bad_entry: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem

    def sentence(self) -> str:
        if self.ok:
            return (
                f"ledger verified: {self.entries} entries, {self.postings} postings, "
                f"{self.accounts} balances; the chain and every sum hold"
            )
        return f"ledger check failed: {self.problem}"


def verify(ledger: Ledger, extra_anchors: dict[int, str] | None = None) -> Report:
    """Check everything; ``extra_anchors`` (entry id to hash) add to those beside the ledger."""
    beside = read_anchor_file(anchor_path(ledger.path))
    anchors = beside.hashes | (extra_anchors or {})
    last_good = 0
    with ledger.store.read(as_current=True) as conn:
        own_id = ledger_id(conn)
        if beside.ledger_id is not None and beside.ledger_id != own_id:
            return Report(
                0,
                0,
                0,
                None,
                f"the anchors in {beside.path} belong to another ledger (id {beside.ledger_id[:8]}, "
                f"this one's is {own_id[:8] if own_id else 'missing'}): this file was copied or "
                f"replaced, so its history is not the one those anchors vouch for",
            )
        if beside.stray_line is not None:
            return Report(
                0,
                0,
                0,
                None,
                f"line {beside.stray_line} of {beside.path} is not an anchor: timebank only appends "
                f"anchors, so the file was changed by something else and cannot vouch for the history",
            )
        codes = dict(conn.execute("SELECT id, code FROM accounts"))
        postings = conn.execute(
            "SELECT entry_id, account_id, amount, balance_after FROM postings ORDER BY entry_id, seq"
        )
        running: dict[int, int] = {}
        prev_hash = GENESIS
        expected_id = None
        n_entries = n_postings = 0
        pending = next(postings, None)

        def fail(entry_id: int | None, problem: str) -> Report:
            return Report(n_entries, n_postings, len(running), entry_id, problem)

        for row in conn.execute(f"SELECT {columns(ENTRY_COLUMNS)} FROM entries ORDER BY id"):
            fields, stored_prev, stored_hash = row[:_HASHED], row[_PREV_HASH], row[_HASH]
            entry_id = fields[_ID]
            n_entries += 1
            if expected_id is not None and entry_id != expected_id:
                return fail(expected_id, f"entry #{expected_id} is missing (next is #{entry_id})")
            expected_id = entry_id + 1
            pairs = []
            total = 0
            while pending is not None and pending[0] < entry_id:
                return fail(pending[0], f"postings belong to entry #{pending[0]}, which is missing")
            while pending is not None and pending[0] == entry_id:
                _, account_id, amount, balance_after = pending
                n_postings += 1
                total += amount
                value = running.get(account_id, 0) + amount
                running[account_id] = value
                pairs.append((codes.get(account_id, f"?{account_id}"), amount))
                if balance_after != value:
                    return fail(
                        entry_id,
                        f"entry #{entry_id}: the running balance of {codes.get(account_id)} is "
                        f"stored as {balance_after} but the postings make it {value}",
                    )
                pending = next(postings, None)
            if stored_prev != prev_hash:
                return fail(entry_id, f"entry #{entry_id} does not link to the entry before it")
            if entry_hash(prev_hash, fields, pairs) != stored_hash:
                return fail(entry_id, f"entry #{entry_id} was altered: its hash does not match")
            if total != 0:
                return fail(entry_id, f"entry #{entry_id}: postings sum to {total}, not zero")
            anchored = anchors.get(entry_id)
            if anchored is not None and anchored != stored_hash:
                return fail(
                    last_good + 1,
                    f"entries #{last_good + 1} to #{entry_id} do not match the hash recorded "
                    f"when #{entry_id} was written: the chain was rebuilt from #{last_good + 1}"
                    f" or after",
                )
            if anchored is not None:
                last_good = entry_id
            prev_hash = stored_hash
        if pending is not None:
            return fail(pending[0], f"postings belong to entry #{pending[0]}, which is missing")
        beyond = [i for i in anchors if expected_id is None or i >= expected_id]
        if beyond:
            first = expected_id or 1
            return fail(
                first,
                f"entry #{max(beyond)} was recorded but the ledger ends before #{first}: "
                f"entries were cut off the end",
            )
        stored = dict(conn.execute("SELECT account_id, balance FROM balances"))
        for account_id in sorted(set(stored) | set(running)):
            if stored.get(account_id, 0) != running.get(account_id, 0):
                return fail(
                    None,
                    f"the balance of {codes.get(account_id)} is stored as "
                    f"{stored.get(account_id, 0)} but its postings sum to "
                    f"{running.get(account_id, 0)}",
                )
    return Report(n_entries, n_postings, len(running))
