"""The ledger as a plain-text accounting journal, for hledger or beancount.

A treasurer, an auditor or a council can then check the ledger with tools they already
trust: ``hledger -f coop.journal bal`` or ``bean-check coop.beancount``. Every entry is
written with its postings, in id order; the commodity is ``MIN``, whole credit-minutes, so
nothing is rounded. Entry ids, kinds, recorders, rules versions, refs and reversal links
travel as codes, tags, metadata and links.

One account name scheme serves both tools (beancount needs each part of a name to start
with a capital letter or digit and to hold only letters, digits and ``-``):

* a member's account ``alice`` is ``Members:Alice``; a sub-account ``alice~savings`` is
  ``Members:Alice:Savings``;
* a system account ``@coop`` is ``System:Coop``, ``@chest`` is ``System:Chest``, and a
  group account ``@han:riverside`` is ``System:Han:Riverside``;
* in a part, ``.`` is written ``-Dot-`` and ``_`` is ``-Us-`` (handles are lower-case, so
  these never clash); any other character is ``-Uxxxx-`` (its code point in hex).

In beancount the roots are declared with ``option "name_assets" "Members"`` and
``option "name_equity" "System"``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import IO

from timebank.interchange.exports import iter_entries
from timebank.ledger import Ledger
from timebank.models import SUB_ACCOUNT, SYSTEM_PREFIX, Account, Entry
from timebank.storage import figures

COMMODITY = "MIN"
FORMATS = ("hledger", "beancount")
_PLAIN = re.compile(r"[a-z0-9-]")


def _part(text: str) -> str:
    out = []
    for char in text:
        if _PLAIN.fullmatch(char):
            out.append(char)
        elif char == ".":
            out.append("-Dot-")
        elif char == "_":
            out.append("-Us-")
        else:
            out.append(f"-U{ord(char):04X}-")
    name = "".join(out)
    if not name or not name[0].isalnum():
        name = "X" + name
    return name[0].upper() + name[1:]


def account_name(code: str) -> str:
    """The journal name of an account code (see the module's scheme)."""
    if code.startswith(SYSTEM_PREFIX):
        return ":".join(["System", *(_part(p) for p in code[1:].split(":"))])
    return ":".join(["Members", *(_part(p) for p in code.split(SUB_ACCOUNT))])


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _description(entry: Entry) -> str:
    if entry.kind == "service":
        what = f"{entry.category}: {','.join(entry.givers)} to {','.join(entry.receivers)}"
    elif entry.kind == "reversal":
        what = f"reversal of #{entry.reverses}"
    else:
        what = entry.kind
    return _one_line(f"{what} {entry.note}" if entry.note else what)


def _hledger_tag(value: object) -> str:
    return _one_line(str(value)).replace(",", ";")


def write_hledger(ledger: Ledger, out: IO[str], accounts: Iterable[Account] | None = None) -> int:
    """Write an hledger journal; returns how many entries."""
    out.write(f"; {_one_line(ledger.rules.coop.get('name', 'timebank'))}: exported by timebank\n")
    out.write(f"; amounts are whole credit-minutes\ncommodity 1. {COMMODITY}\n\n")
    for account in accounts if accounts is not None else ledger.accounts():
        out.write(f"account {account_name(account.code)}  ; code:{_hledger_tag(account.code)}\n")
    count = 0
    for entry in iter_entries(ledger):
        tags = [
            f"entry:{entry.id}",
            f"kind:{entry.kind}",
            f"recorded_by:{_hledger_tag(entry.recorded_by)}",
            f"rules:{entry.rules_version}",
        ]
        if entry.reverses is not None:
            tags.append(f"reverses:{entry.reverses}")
        tags += [f"ref-{_hledger_tag(k)}:{_hledger_tag(v)}" for k, v in sorted(entry.refs.items())]
        description = _description(entry).replace(";", ",")
        out.write(f"\n{entry.day.isoformat()} * ({entry.id}) {description}  ; {', '.join(tags)}\n")
        for posting in entry.postings:
            out.write(f"    {account_name(posting.account)}  {posting.amount} {COMMODITY}\n")
        count += 1
    return count


def _quote(text: str) -> str:
    return '"' + _one_line(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _first_day(ledger: Ledger) -> dt.date:
    days = [m.joined for m in ledger.members()]
    first = figures.first_day(ledger.conn)
    if first:
        days.append(first)
    return min(days, default=dt.date.today())


def write_beancount(ledger: Ledger, out: IO[str]) -> int:
    """Write a beancount file; returns how many entries."""
    opened = _first_day(ledger).isoformat()
    out.write(f'option "title" {_quote(ledger.rules.coop.get("name", "timebank"))}\n')
    out.write('option "name_assets" "Members"\noption "name_equity" "System"\n')
    out.write(f'option "operating_currency" "{COMMODITY}"\n\n')
    out.write(f'{opened} commodity {COMMODITY}\n  name: "whole credit-minutes"\n\n')
    for account in ledger.accounts():
        out.write(f"{opened} open {account_name(account.code)} {COMMODITY}\n")
        out.write(f"  code: {_quote(account.code)}\n")
    count = 0
    for entry in iter_entries(ledger):
        links = [f"^entry-{entry.id}"]
        if entry.reverses is not None:
            links.append(f"^entry-{entry.reverses}")
        out.write(f"\n{entry.day.isoformat()} * {_quote(_description(entry))} {' '.join(links)}\n")
        out.write(f"  entry: {entry.id}\n  kind: {_quote(entry.kind)}\n")
        out.write(f"  recorded-by: {_quote(entry.recorded_by)}\n  rules-version: {entry.rules_version}\n")
        if entry.reverses is not None:
            out.write(f"  reverses: {entry.reverses}\n")
        if entry.refs:
            out.write(f"  refs: {_quote(';'.join(f'{k}={v}' for k, v in sorted(entry.refs.items())))}\n")
        for posting in entry.postings:
            out.write(f"  {account_name(posting.account)}  {posting.amount} {COMMODITY}\n")
        count += 1
    return count


def write_journal(ledger: Ledger, out: IO[str], fmt: str) -> int:
    """Write the journal in ``fmt`` (``hledger`` or ``beancount``); returns how many entries."""
    return write_beancount(ledger, out) if fmt == "beancount" else write_hledger(ledger, out)


__all__ = ["COMMODITY", "FORMATS", "account_name", "write_beancount", "write_hledger", "write_journal"]
