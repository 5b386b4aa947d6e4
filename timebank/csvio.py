"""CSV import and export of members and exchanges.

An import is checked whole before anything counts: every bad row is reported
with its line, field and value, and if any row is bad the transaction is rolled
back and the ledger is exactly as it was. Exchanges stream through the same
rules as one typed in, a batch at a time, inside one transaction.

Exports neutralise spreadsheet formulas: a text cell starting with ``=``, ``+``,
``-``, ``@``, tab or carriage return is written with a leading ``'``, and the
importer takes that quote off again so an export imports back unchanged.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import operator
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from timebank.errors import InputError, RulesRefused, TimebankError
from timebank.ledger import DryRunDone, Ledger
from timebank.models import Exchange, Member
from timebank.reproduce import POSTINGS, REFS, difference, read_postings, read_refs
from timebank.store import STANDING
from timebank.units import check_text, format_minutes, parse_day, parse_duration

EXCHANGE_COLUMNS = ("date", "giver", "receiver", "duration", "category", "note")
MEMBER_COLUMNS = ("handle", "name", "member_class", "joined", "role", "area", "flags")
REQUIRED = {
    "exchanges": ("date", "giver", "receiver", "duration", "category"),
    "members": ("handle", "name", "member_class"),
}
MAX_FIELD = 10_000
BATCH = 5000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ImportRefused(TimebankError):
    """A file had bad rows; ``errors`` lists each as ``line N, field: message``."""

    def __init__(self, source: str, errors: list[str]):
        self.errors = errors
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"{source}: nothing was imported; {errors[0]}{more}")


def neutralise(text: str) -> str:
    """Make a text cell safe to open in a spreadsheet."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _restore(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(_FORMULA_START) else text


def _header(reader: Iterator[list[str]], source: str, kind: str) -> list[str]:
    """The file's column names, lower-cased; every required column must be there."""
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise InputError(f"{source}: the file is empty") from None
    except csv.Error as exc:
        raise InputError(f"{source}: line 1: {exc}") from None
    missing = [c for c in REQUIRED[kind] if c not in header]
    if missing:
        raise InputError(
            f"{source}: line 1: missing column {missing[0]!r} (columns: "
            f"{', '.join(EXCHANGE_COLUMNS if kind == 'exchanges' else MEMBER_COLUMNS)})"
        )
    return header


def _rows(stream: IO[str], source: str, kind: str) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header, and each non-blank row as ``(line, cells)`` in the header's order.

    Rows are lists rather than dicts: a million of them is the bulk of an import's reading.
    """
    reader = csv.reader(stream)
    header = _header(reader, source, kind)

    def rows() -> Iterator[tuple[int, list[str]]]:
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise InputError(f"{source}: line {reader.line_num}: {exc}") from None
            if values:
                yield reader.line_num, values

    return header, rows()


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _check_row(header: list[str], values: list[str]) -> list[str]:
    """The row's cells, one per column (missing ones empty), if every cell is safe text."""
    width = len(header)
    if len(values) > width:
        raise InputError("row: has more cells than the header has columns")
    text = "".join(values)
    if len(text) > MAX_FIELD or _CONTROL.search(text) is not None:
        for field, value in zip(header, values, strict=False):
            check_text(value, field=field, max_length=MAX_FIELD)
    return values if len(values) == width else values + [""] * (width - len(values))


def _handles(value: str, field: str) -> tuple[str, ...]:
    if value and value.isalnum():  # the common case: one plain handle
        return (value,)
    handles = tuple(h.strip() for h in value.replace(";", " ").split() if h.strip())
    if not handles:
        raise InputError(f"{field}: is empty")
    return handles


class ExchangeParser:
    """Reads exchange rows, remembering dates and durations already seen.

    A file of a million exchanges holds a few hundred distinct dates and a handful of
    durations, so each is parsed once.
    """

    def __init__(self, recorded_by: str, header: list[str]):
        self.recorded_by = recorded_by
        self.days: dict[str, dt.date] = {}
        self.durations: dict[str, int] = {}
        self.required = operator.itemgetter(*(header.index(c) for c in REQUIRED["exchanges"]))
        self.note_at = header.index("note") if "note" in header else None
        self.refs_at = header.index(REFS) if REFS in header else None
        self.postings_at = header.index(POSTINGS) if POSTINGS in header else None

    def __call__(self, values: list[str]) -> Exchange:
        """One row's cells as an exchange; ``InputError`` names the field and quotes the value."""
        day_text, giver, receiver, duration, category = self.required(values)
        note = "" if self.note_at is None else values[self.note_at]
        day = self.days.get(day_text)
        if day is None:
            if not day_text.strip():
                raise InputError("date: is empty")
            day = self.days[day_text] = parse_day(day_text)
        minutes = self.durations.get(duration)
        if minutes is None:
            minutes = self.durations[duration] = parse_duration(duration)
        return Exchange(
            givers=_handles(giver, "giver"),
            receivers=_handles(receiver, "receiver"),
            minutes=minutes,
            day=day,
            category=category.strip(),
            recorded_by=self.recorded_by,
            note=_restore(note),
            refs=read_refs(_restore(values[self.refs_at])) if self.refs_at is not None else {},
        )


def _open(path: str | Path) -> IO[str]:
    try:
        return open(path, newline="", encoding="utf-8-sig", errors="strict")
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None


def import_exchanges(
    ledger: Ledger,
    path: str | Path,
    *,
    actor: str,
    dry_run: bool = False,
    acknowledge: bool = False,
    max_errors: int = 100,
) -> int:
    """Import a CSV of exchanges as one transaction; returns how many were recorded."""
    ledger.require(actor, "import", str(path))
    source = str(path)
    errors: list[str] = []
    lines: list[int] = []
    expected: list[tuple[tuple[str, int], ...]] = []

    def batches() -> Iterator[list[Exchange]]:
        batch: list[Exchange] = []
        with _open(path) as stream:
            try:
                header, rows = _rows(stream, source, "exchanges")
                parse = ExchangeParser(actor, header)
                for line, values in rows:
                    try:
                        exchange = parse(_check_row(header, values))
                    except InputError as exc:
                        errors.append(f"line {line}, {exc}")
                        continue
                    lines.append(line)
                    batch.append(exchange)
                    if parse.postings_at is not None:  # what the export recorded, to compare
                        expected.append(read_postings(_restore(values[parse.postings_at])))
                    if len(batch) >= BATCH:
                        yield batch
                        batch = []
            except UnicodeDecodeError as exc:
                errors.append(f"byte {exc.start}: the file is not UTF-8 text")
        if batch:
            yield batch

    # Entries are kept only for after-hooks: a million Entry records cost seconds for nothing.
    listened = ledger.plugins.implements("after_entries_recorded", ledger.rules)
    compare = _has_column(path, POSTINGS)
    try:
        with ledger.transaction(importing=True, settle_claims=not dry_run) as conn:
            batch, problems = ledger.record_batches_in(
                conn, batches(), acknowledge=acknowledge, keep_entries=listened or compare
            )
            errors.extend(
                f"line {lines[p.index]}, {p.field}: {p.message}"
                + ("" if p.severity == "error" else " (a warning: import with --accept-warnings)")
                for p in problems
            )
            if compare and not problems and not errors:  # rows the rules here record differently
                found = (
                    difference(ln, exp, e) for ln, exp, e in zip(lines, expected, batch.written, strict=True)
                )
                errors.extend(error for error in found if error)
            if errors:
                errors.sort(key=_line_of)
                raise ImportRefused(source, errors[:max_errors])
            if dry_run:
                raise DryRunDone([])
    except DryRunDone:
        return batch.count
    ledger._after(batch.written)
    return batch.count


def _has_column(path: str | Path, name: str) -> bool:
    try:
        with _open(path) as stream:
            header = next(csv.reader(stream), [])
    except (csv.Error, UnicodeDecodeError, InputError):
        return False
    return name in (h.strip().lower() for h in header)


def _line_of(error: str) -> int:
    head = error.split(",", 1)[0]
    return int(head[5:]) if head.startswith("line ") and head[5:].isdigit() else 0


def import_members(ledger: Ledger, path: str | Path, *, actor: str, dry_run: bool = False) -> int:
    """Import a CSV of members as one transaction; returns how many were added."""
    source = str(path)
    errors: list[str] = []
    count = 0
    seen: set[str] = set()
    try:
        with ledger.transaction(importing=True, settle_claims=not dry_run), _open(path) as stream:
            header, rows = _rows(stream, source, "members")
            for line, values in rows:
                try:
                    member = _parse_member(dict(zip(header, _check_row(header, values), strict=True)))
                    if member.handle in seen:
                        raise InputError(f"handle: {member.handle!r} appears twice in the file")
                    seen.add(member.handle)
                    ledger.add_member(member, actor=actor)
                    count += 1
                except RulesRefused as exc:
                    errors.extend(f"line {line}, {p.describe()}" for p in exc.problems)
                except InputError as exc:
                    errors.append(f"line {line}, {exc}")
            if errors:
                raise ImportRefused(source, errors)
            if dry_run:
                raise DryRunDone([])
    except DryRunDone:
        pass
    except UnicodeDecodeError as exc:
        raise InputError(f"{source}: byte {exc.start}: the file is not UTF-8 text") from None
    return count


def _parse_member(row: dict[str, str]) -> Member:
    joined = row.get("joined", "").strip()
    try:
        return Member(
            handle=row.get("handle", "").strip(),
            name=_restore(row.get("name", "").strip()) or _missing("name"),
            member_class=row.get("member_class", "").strip(),
            joined=parse_day(joined, field="joined") if joined else dt.date.today(),
            role=row.get("role", "").strip() or "member",
            area=row.get("area", "").strip() or None,
            flags=frozenset(f for f in row.get("flags", "").replace(";", ",").split(",") if f),
        )
    except ValueError as exc:
        raise InputError(str(exc)) from None


def _missing(field: str) -> str:
    raise InputError(f"{field}: is empty")


def export_exchanges(ledger: Ledger, out: IO[str]) -> int:
    """Write every service entry not reversed as an importable exchanges CSV."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow((*EXCHANGE_COLUMNS, REFS, POSTINGS))
    count = 0
    rows = ledger.conn.execute(
        "SELECT e.day, e.givers, e.receivers, e.minutes, e.category, e.note, e.refs,"
        " (SELECT group_concat(a.code || '=' || p.amount, ';') FROM"
        "  (SELECT * FROM postings WHERE entry_id = e.id ORDER BY seq) p"
        "  JOIN accounts a ON a.id = p.account_id) FROM entries e"
        f" WHERE e.kind = 'service' AND {STANDING}"
        " ORDER BY e.id"
    )
    for day, givers, receivers, minutes, category, note, refs, postings in rows:
        writer.writerow(
            [
                day,
                givers.replace(" ", ";"),
                receivers.replace(" ", ";"),
                format_minutes(minutes),
                neutralise(category),
                neutralise(note),
                neutralise(refs),
                neutralise(postings or ""),
            ]
        )
        count += 1
    return count


def export_members(ledger: Ledger, out: IO[str]) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow((*MEMBER_COLUMNS, "status", "left"))
    members = ledger.members()
    for m in members:
        writer.writerow(
            [
                m.handle,
                neutralise(m.name),
                m.member_class,
                m.joined.isoformat(),
                m.role,
                neutralise(m.area or ""),
                ";".join(sorted(m.flags)),
                m.status,
                m.left.isoformat() if m.left else "",
            ]
        )
    return len(members)


def exchanges_csv(rows: list[dict[str, str]]) -> str:
    """Rows as exchanges CSV text (tests and the demo use it)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, EXCHANGE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


__all__ = [
    "ImportRefused",
    "import_exchanges",
    "import_members",
    "export_exchanges",
    "export_members",
    "neutralise",
]
