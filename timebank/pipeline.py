"""The rules of the one write path, as functions: exchanges and balances in, drafts out.

``Ledger.write`` runs these steps over each batch, and ``timebank.storage.writes``
writes what they admit. Nothing here reads or writes the ledger file; the ledger is
passed only to hand it on to the plugins' hooks. An exchange typed in the TUI and a
million imported from CSV go through the same steps, a batch at a time:

1. ``validate_exchanges``: each enabled plugin may object to an exchange;
2. ``make_postings`` (first answer) and ``add_postings``: the rules turn each
   exchange into balanced postings;
3. the core works out every touched account's balance after each draft, in
   order, and ``validate_drafts`` may object (credit limits);
4. ``Ledger.write`` hands the admitted drafts to ``storage.writes``, which hashes
   them onto the chain and writes them with their postings and the balances.

Plugin output is checked before anything is written: a plugin that returns
unbalanced postings, unknown accounts or the wrong types is named and nothing
is written.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from timebank.errors import InputError, NotFound, PluginFailed
from timebank.listings import listing_problems
from timebank.models import Draft, Exchange, Posting, Problem
from timebank.rules import Rules
from timebank.units import NOTE_LENGTH, check_text, text_fault

if TYPE_CHECKING:
    from timebank.ledger import Ledger


def blocking(problems: Iterable[Problem], *, acknowledge: bool) -> list[Problem]:
    """The problems that stop a write: every error, and warnings unless ``acknowledge``."""
    return [p for p in problems if p.severity == "error" or not acknowledge]


def text_problems(exchanges: Sequence[Exchange]) -> list[Problem]:
    """The one text check (``check_text``) over a batch of exchanges, as problems that name
    the exchange, so an import reports the CSV line."""
    notes = [e.note for e in exchanges]
    kinds = [e.category for e in exchanges]
    try:  # the common case, a batch of clean text, in a few C-speed passes
        clean = (
            max(map(len, notes), default=0) <= NOTE_LENGTH
            and max(map(len, kinds), default=0) <= 100
            and text_fault("".join(notes) + "".join(kinds), max_length=sys.maxsize) is None
            and not any(e.refs for e in exchanges)
        )
    except TypeError:  # something that is not text: the loop below names it
        clean = False
    if clean:
        return []
    problems = []
    for index, exchange in enumerate(exchanges):
        texts = [("note", exchange.note, NOTE_LENGTH), ("kind", exchange.category, 100)]
        texts += [("ref", f"{key}={value}", 200) for key, value in exchange.refs.items()]
        for field, value, limit in texts:
            fault = text_fault(value, limit)
            if fault is not None:
                problems.append(Problem("error", "timebank", field, fault, index))
    return problems


def check_drafts(drafts: Sequence[Draft], accounts: dict[str, int]) -> None:
    """Refuse drafts that are not exchanges (transfers, adjustments, reversals) unless each
    note is clean text and the postings are whole minutes on known accounts summing to zero."""
    for draft in drafts:
        check_text(draft.note, field="note")
        for posting in draft.postings:
            if posting.account not in accounts:
                raise NotFound(f"account: no account {posting.account!r}")
            if type(posting.amount) is not int:
                raise InputError(f"postings: {posting!r} is not in whole minutes")
        if sum(p.amount for p in draft.postings) != 0:
            raise InputError("postings: an entry's postings must sum to zero")


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
    ledger: Ledger, rules: Rules, exchanges: Sequence[Exchange], accounts: dict[str, int]
) -> tuple[list[Draft | None], list[Problem]]:
    """Run the exchange rules over a batch: drafts (None where refused) and problems.

    ``ledger`` is only handed to the plugins, whose hooks read it."""
    problems = gather_problems(ledger, rules, "validate_exchanges", size=len(exchanges), exchanges=exchanges)
    problems += listing_problems(ledger, exchanges)  # an exchange that answers a listing
    refused = {p.index for p in problems if p.severity == "error"}
    keep = [i for i in range(len(exchanges)) if i not in refused]
    good = [exchanges[i] for i in keep]
    drafts: list[Draft | None] = [None] * len(exchanges)
    if not good:
        return drafts, problems
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
    ledger: Ledger,
    rules: Rules,
    drafts: Sequence[Draft | None],
    balance: Callable[[str], int],
    *,
    acknowledge: bool,
) -> tuple[list[Draft | None], list[Problem]]:
    """Work out balances after each draft and let ``validate_drafts`` object.

    A draft refused here is taken out and the balances recomputed without it,
    so the drafts after it are judged on the balances they would really meet.
    Warnings refuse too unless ``acknowledge`` is set (a soft limit). ``balance`` gives
    an account's balance before the first of these drafts.
    """
    live = list(drafts)
    problems: list[Problem] = []
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
                    value = balance(code)
                value += posting.amount
                running[code] = after[code] = value
            staged.append(draft)
            positions.append(i)
        found = [
            attrs.evolve(p, index=positions[p.index])
            for p in gather_problems(ledger, rules, "validate_drafts", size=len(staged), drafts=staged)
        ]
        stopped = sorted({p.index for p in blocking(found, acknowledge=acknowledge)})
        if not stopped:
            return live, problems + found
        # Refuse the first blocked draft, and any later one whose accounts it did not
        # touch (their balances do not depend on it); judge the rest again without them.
        shaken: set[str] = set()
        refused = set()
        for i in stopped:
            accounts = {p.account for p in live[i].postings}
            if not accounts & shaken:
                refused.add(i)
            shaken |= accounts
        for i in refused:
            live[i] = None
        problems += [p for p in found if p.index in refused]
    raise AssertionError("admission did not settle")  # pragma: no cover
