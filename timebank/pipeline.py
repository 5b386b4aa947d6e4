"""The one path every change to the ledger takes: rules, drafts, checks, write.

An exchange typed in the TUI and a million imported from CSV go through the
same steps, a batch at a time:

1. ``validate_exchanges``: each enabled plugin may object to an exchange;
2. ``make_postings`` (first answer) and ``add_postings``: the rules turn each
   exchange into balanced postings;
3. the core works out every touched account's balance after each draft, in
   order, and ``validate_drafts`` may object (credit limits);
4. accepted drafts are hashed onto the chain and written with ``executemany``
   together with their postings and the balances, inside the caller's
   transaction.

Plugin output is checked before anything is written: a plugin that returns
unbalanced postings, unknown accounts or the wrong types is named and nothing
is written.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs

from timebank.chain import GENESIS, entry_hash
from timebank.errors import PluginFailed
from timebank.listings import listing_problems
from timebank.models import Draft, Entry, Exchange, Posting, Problem, encode_refs
from timebank.rules import Rules
from timebank.storage.store import now_utc

if TYPE_CHECKING:
    from timebank.ledger import Ledger

_INSERT_ENTRY = (
    "INSERT INTO entries (id, kind, day, recorded_at, recorded_by, givers, receivers, minutes,"
    " category, note, rules_version, reverses, refs, prev_hash, hash)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_POSTING = (
    "INSERT INTO postings (entry_id, seq, account_id, amount, balance_after) VALUES (?, ?, ?, ?, ?)"
)
_UPSERT_BALANCE = (
    "INSERT INTO balances (account_id, balance, last_entry_id) VALUES (?, ?, ?)"
    " ON CONFLICT (account_id) DO UPDATE SET balance = excluded.balance,"
    " last_entry_id = excluded.last_entry_id"
)


class Batch:
    """The working state of one write transaction: balances so far and the chain head.

    Balances are read from the balances table once per account and then kept in
    memory, so each draft's ``balances_after`` reflects the drafts before it in
    the same transaction.
    """

    def __init__(self, ledger: Ledger, conn: sqlite3.Connection, rules: Rules, *, keep_entries: bool = True):
        self.ledger = ledger
        # A million-row import keeps no Entry records unless an after-hook will read them.
        self.keep_entries = keep_entries
        self.count = 0
        self.conn = conn
        self.rules = rules
        self.recorded_at = now_utc()
        row = conn.execute("SELECT id, hash FROM entries ORDER BY id DESC LIMIT 1").fetchone()
        self.last_id, self.head = row if row else (0, GENESIS)
        self.balances: dict[str, int] = {}
        self.touched: set[str] = set()
        self.written: list[Entry] = []

    def balance(self, code: str) -> int:
        if code not in self.balances:
            self.balances[code] = self.ledger._stored_balance(code, self.conn)
        return self.balances[code]


def _check_posting_lists(
    plugin: str, hook: str, result: Any, count: int, accounts: dict[str, int], *, keep_none: bool = False
) -> list[Any]:
    """Refuse plugin output that is not one list of valid, balanced postings per exchange.

    None in place of a list is "nothing" (``add_postings``), or with ``keep_none`` stays
    None: "not mine" (``make_postings``).
    """
    if len(result) != count:
        raise PluginFailed(plugin, hook, f"returned {type(result).__name__} for {count} exchanges")
    checked: list[Any] = []
    for postings in result:
        if postings is None:
            checked.append(None if keep_none else ())
            continue
        total = 0  # types were checked by the plugin manager (``_result_checks``)
        for posting in postings:
            if posting.account not in accounts:
                raise PluginFailed(plugin, hook, f"posted to unknown account {posting.account!r}")
            total += posting.amount
        if total != 0:
            raise PluginFailed(plugin, hook, f"returned postings that do not sum to zero: {postings}")
        checked.append(tuple(postings))
    return checked


def gather_problems(
    ledger: Ledger, rules: Rules, hook: str, *, size: int | None = None, **kwargs: Any
) -> list[Problem]:
    """Every enabled plugin's problems from ``hook``; for a batch of ``size``, indexes must fit it."""
    problems = []
    for plugin, result in ledger.plugins.call(hook, rules, ledger=ledger, **kwargs):
        for problem in result:  # each a Problem: the plugin manager checks every result's type
            if size is not None and not 0 <= problem.index < size:
                raise PluginFailed(plugin, hook, f"named item {problem.index} of a batch of {size}")
            problems.append(problem)
    return problems


def service_drafts(
    ledger: Ledger, rules: Rules, exchanges: Sequence[Exchange]
) -> tuple[list[Draft | None], list[Problem]]:
    """Run the exchange rules over a batch: drafts (None where refused) and problems."""
    problems = gather_problems(ledger, rules, "validate_exchanges", size=len(exchanges), exchanges=exchanges)
    problems += listing_problems(ledger, exchanges)  # an exchange that answers a listing
    refused = {p.index for p in problems if p.severity == "error"}
    keep = [i for i in range(len(exchanges)) if i not in refused]
    good = [exchanges[i] for i in keep]
    drafts: list[Draft | None] = [None] * len(exchanges)
    if not good:
        return drafts, problems
    accounts = ledger.account_ids()
    postings = make_postings(ledger, rules, good, accounts)
    for plugin, extra in ledger.plugins.call(
        "add_postings", rules, ledger=ledger, exchanges=good, postings=postings
    ):
        extra = _check_posting_lists(plugin, "add_postings", extra, len(good), accounts)
        postings = [base + more for base, more in zip(postings, extra, strict=True)]
    for i, exchange, entry_postings in zip(keep, good, postings, strict=True):
        drafts[i] = Draft(
            kind="service",
            day=exchange.day,
            recorded_by=exchange.recorded_by,
            postings=entry_postings,
            exchange=exchange,
            note=exchange.note,
        )
    return drafts, problems


def make_postings(
    ledger: Ledger, rules: Rules, exchanges: Sequence[Exchange], accounts: dict[str, int]
) -> list[tuple[Posting, ...]]:
    """Each exchange's postings from the first plugin that answers for it.

    Plugins are asked in call order; each sees only the exchanges no plugin before it
    answered for, and may answer None for the whole batch or for any exchange in it. So
    how an exchange is posted never depends on what else is in its batch.
    """
    postings: list[Any] = [None] * len(exchanges)
    waiting = list(range(len(exchanges)))
    for plugin, call in ledger.plugins.callers("make_postings", rules):
        if not waiting:
            break
        result = call(ledger=ledger, exchanges=[exchanges[i] for i in waiting])
        if result is None:
            continue
        count = len(waiting)
        answers = _check_posting_lists(plugin, "make_postings", result, count, accounts, keep_none=True)
        for i, answer in zip(waiting, answers, strict=True):
            postings[i] = answer
        waiting = [i for i in waiting if postings[i] is None]
    if waiting:
        exchange = exchanges[waiting[0]]
        raise PluginFailed(
            "(none)",
            "make_postings",
            f"no enabled plugin turns {exchange.category} on {exchange.day} into postings",
        )
    return postings


def admit(
    batch: Batch,
    drafts: Sequence[Draft | None],
    *,
    acknowledge: bool,
    offset_problems: list[Problem],
) -> tuple[list[Draft | None], list[Problem]]:
    """Work out balances after each draft and let ``validate_drafts`` object.

    A draft refused here is taken out and the balances recomputed without it,
    so the drafts after it are judged on the balances they would really meet.
    Warnings refuse too unless ``acknowledge`` is set (a soft limit).
    """
    ledger, rules = batch.ledger, batch.rules
    live = list(drafts)
    problems = list(offset_problems)
    for _ in range(len(live) + 1):
        running: dict[str, int] = {}
        staged: list[Draft] = []
        positions: list[int] = []
        for i, draft in enumerate(live):
            if draft is None:
                continue
            after = draft.balances_after  # the core's own working field, filled in place
            after.clear()
            for posting in draft.postings:
                code = posting.account
                value = running.get(code)
                if value is None:
                    value = batch.balance(code)
                value += posting.amount
                running[code] = after[code] = value
            staged.append(draft)
            positions.append(i)
        found = [
            attrs.evolve(p, index=positions[p.index])
            for p in gather_problems(ledger, rules, "validate_drafts", size=len(staged), drafts=staged)
        ]
        blocking = sorted({p.index for p in found if p.severity == "error" or not acknowledge})
        if not blocking:
            return live, problems + found
        # Refuse the first blocked draft, and any later one whose accounts it did not
        # touch (their balances do not depend on it); judge the rest again without them.
        shaken: set[str] = set()
        refused = set()
        for i in blocking:
            accounts = {p.account for p in live[i].postings}
            if not accounts & shaken:
                refused.add(i)
            shaken |= accounts
        for i in refused:
            live[i] = None
        problems += [p for p in found if p.index in refused]
    raise AssertionError("admission did not settle")  # pragma: no cover


def write_drafts(batch: Batch, drafts: Sequence[Draft]) -> list[Entry]:
    """Hash the drafts onto the chain and write entries, postings and balances."""
    account_ids = batch.ledger.account_ids()
    version = batch.rules.version
    entry_rows, posting_rows, entries = [], [], []
    balances = batch.balances
    recorded_at = batch.recorded_at
    touched, keep = batch.touched, batch.keep_entries
    head, entry_id = batch.head, batch.last_id
    for draft in drafts:
        entry_id += 1
        exchange = draft.exchange
        if exchange is not None:
            givers, receivers = " ".join(exchange.givers), " ".join(exchange.receivers)
            minutes, category = exchange.minutes, exchange.category
            refs = encode_refs(exchange.refs) if exchange.refs else ""
        else:  # a transfer, adjustment or reversal: from the accounts debited to those credited
            givers = " ".join(dict.fromkeys(p.account for p in draft.postings if p.amount < 0))
            receivers = " ".join(dict.fromkeys(p.account for p in draft.postings if p.amount > 0))
            category = refs = ""
            minutes = 0
        day = draft.day.isoformat()
        fields = (
            entry_id,
            draft.kind,
            day,
            recorded_at,
            draft.recorded_by,
            givers,
            receivers,
            minutes,
            category,
            draft.note,
            version,
            draft.reverses,
            refs,
        )
        pairs = [(p.account, p.amount) for p in draft.postings]
        digest = entry_hash(head, fields, pairs)
        entry_rows.append((*fields, head, digest))
        for seq, (code, amount) in enumerate(pairs):
            value = balances.get(code)
            if value is None:
                value = batch.balance(code)
            value += amount
            balances[code] = value
            touched.add(code)
            posting_rows.append((entry_id, seq, account_ids[code], amount, value))
        prev_hash, head = head, digest
        if not keep:
            continue
        entries.append(
            Entry(
                id=entry_id,
                kind=draft.kind,
                day=draft.day,
                recorded_at=recorded_at,
                recorded_by=draft.recorded_by,
                givers=tuple(givers.split()),
                receivers=tuple(receivers.split()),
                minutes=minutes,
                category=category,
                note=draft.note,
                rules_version=version,
                reverses=draft.reverses,
                prev_hash=prev_hash,
                hash=digest,
                postings=draft.postings,
                refs=exchange.refs if exchange is not None else {},
            )
        )
    batch.head, batch.last_id = head, entry_id
    conn = batch.conn
    batch.ledger._wrote_entries = bool(entry_rows) or batch.ledger._wrote_entries
    conn.executemany(_INSERT_ENTRY, entry_rows)
    conn.executemany(_INSERT_POSTING, posting_rows)
    batch.written.extend(entries)
    batch.count += len(entry_rows)
    return entries


def flush_balances(batch: Batch) -> None:
    """Write every balance the transaction touched; called once before commit."""
    ids = batch.ledger.account_ids()
    rows = [(ids[code], batch.balances[code], batch.last_id) for code in batch.touched]
    batch.conn.executemany(_UPSERT_BALANCE, rows)
    batch.touched.clear()
