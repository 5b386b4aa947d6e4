"""CSV import and export of members and exchanges.

An import is checked whole before anything counts: every bad row is reported
with its line, field and value, and if any row is bad the transaction is rolled
back and the ledger is exactly as it was. Exchanges stream through the same
rules as one typed in, a batch at a time, inside one transaction.

Exports neutralise spreadsheet formulas: a text cell starting with ``=``, ``+``,
``-``, ``@``, tab or carriage return is written with a leading ``'`` (and so is one
starting with ``'``, so that the quote stays unambiguous), and the importer takes
that quote off again: an export imports back exactly as it was.

A file is read strictly, because a CSV's mistakes are silent: a cell that opens a quote
and never closes it would swallow every later row, a column named twice or misspelt
would be ignored. Each is refused with the line (and column) where it happens.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import operator
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

import attrs

from timebank.errors import InputError, RulesRefused, TimebankError
from timebank.interchange.reproduce import POSTINGS, REFS, difference, read_postings, read_refs
from timebank.ledger import Ledger, WriteResult
from timebank.models import HANDLE_PATTERN, Exchange, Member, Problem
from timebank.storage import exchanges as stored_exchanges
from timebank.units import check_text, format_minutes, parse_day, parse_duration, split_flags, split_handles

EXCHANGE_COLUMNS = ("date", "giver", "receiver", "duration", "category", "note")
MEMBER_COLUMNS = ("handle", "name", "member_class", "joined", "role", "area", "flags")
REQUIRED = {
    "exchanges": ("date", "giver", "receiver", "duration", "category"),
    "members": ("handle", "name", "member_class"),
}
OPTIONAL = {
    "exchanges": ("note", REFS, POSTINGS),
    "members": ("joined", "role", "area", "flags", "status", "left"),
}
MAX_FIELD = 10_000
BATCH = 5000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NEUTRALISED = (*_FORMULA_START, "'")
_QUOTE_ADVICE = 'a cell that starts with a quote mark must end with one (write "" for a quote mark inside it)'


class ImportRefused(TimebankError):
    """A file had bad rows: ``problems`` holds each as a ``Problem`` whose index is its line
    (0 for one of the whole file), in line order; ``errors`` formats them for a person."""

    def __init__(self, source: str, problems: Sequence[Problem]):
        self.problems = tuple(problems)
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(f"{source}: nothing was imported; {self.errors[0]}{more}")

    @property
    def errors(self) -> list[str]:
        """Each problem as ``line N, field: message``, a warning saying how to accept it."""
        return [describe_line(p) for p in self.problems]


def describe_line(problem: Problem) -> str:
    """A problem of a file, for a person: ``line 4, duration: '' is not a duration``."""
    where = f"line {problem.index}, " if problem.index else ""
    text = f"{problem.field}: {problem.message}" if problem.field else problem.message
    warning = "" if problem.severity == "error" else " (a warning: import with --accept-warnings)"
    return where + text + warning


def _problem(line: int, exc: InputError) -> Problem:
    """An error read from a file, at ``line``: the field the error was raised with, and its
    message (the whole sentence when it was raised without one)."""
    return Problem("error", "timebank", exc.field or "", exc.detail, line)


def neutralise(text: str) -> str:
    """Make a text cell safe to open in a spreadsheet: a formula becomes text after a ``'``.

    Text that itself starts with ``'`` gets one too, so ``_restore`` can always tell the
    quote it must take off from one that belongs to the text.
    """
    return "'" + text if text.startswith(_NEUTRALISED) else text


def _restore(text: str) -> str:
    """The text ``neutralise`` was given: one leading ``'`` comes off before a formula or a ``'``."""
    return text[1:] if text.startswith("'") and text[1:].startswith(_NEUTRALISED) else text


class _Unreadable(InputError):
    """The file's structure is broken at a line: nothing after it can be trusted, so reading stops."""

    def __init__(self, line: int, field: str, message: str):
        self.problem = Problem("error", "timebank", field, message, line)
        super().__init__(describe_line(self.problem))


def _header(reader: Iterator[list[str]], source: str, kind: str) -> list[str]:
    """The file's column names, lower-cased: each known, none twice, the required ones there.

    A column that was ignored would be data lost without a word: a misspelt ``notes``
    or a second ``area`` is refused rather than skipped. A column with no name may stay
    (spreadsheets add them) as long as its cells are empty.
    """
    try:
        cells = next(reader)
    except StopIteration:
        raise InputError(f"{source}: the file is empty") from None
    except csv.Error as exc:
        raise InputError(f"{source}: line 1: {exc}") from None
    header = [h.strip().lower().replace(" ", "_").replace("-", "_") for h in cells]
    columns = REQUIRED[kind] + OPTIONAL[kind]
    listed = ", ".join(columns)
    if len(header) == 1:
        for separator, name in ((";", "semicolons"), ("\t", "tabs")):
            if separator in cells[0]:
                raise InputError(
                    f"{source}: line 1: the columns are separated by {name}; save the file as"
                    f" comma-separated CSV (columns: {listed})"
                )
    missing = [f"missing column {c!r}" for c in REQUIRED[kind] if c not in header]
    unknown = [
        f"unknown column {cells[at].strip()!r}" for at, n in enumerate(header) if n and n not in columns
    ]
    if missing or unknown:
        raise InputError(f"{source}: line 1: {'; '.join((missing + unknown)[:2])} (columns: {listed})")
    for at, name in enumerate(header):
        if name and name in header[:at]:
            raise InputError(
                f"{source}: line 1: the column {name!r} appears twice (columns {header.index(name) + 1}"
                f" and {at + 1}); keep one"
            )
    return header


def _rows(stream: IO[str], source: str, kind: str) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header, and each row that holds anything as ``(line, cells)`` in the header's order.

    The line is where the row starts. Rows are lists rather than dicts: a million of them
    is the bulk of an import's reading. A quoting mistake raises ``_Unreadable``; a file
    with a header and no rows is refused.
    """
    reader = csv.reader(stream, strict=True)
    header = _header(reader, source, kind)

    def rows() -> Iterator[tuple[int, list[str]]]:
        found = False
        end = reader.line_num
        while True:
            start = end + 1
            try:
                values = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                raise _Unreadable(*_quoting_problem(stream, header, start, exc)) from None
            end = reader.line_num
            if end != start:
                _check_spanning(header, values, start, end, kind)
            # Blank lines, and the ",,,," rows spreadsheets leave, hold nothing.
            if values and (values[0].strip() or any(v.strip() for v in values)):
                found = True
                yield start, values
        if not found:
            raise InputError(f"{source}: the file has column names but no rows; nothing to import")

    return header, rows()


def _quoting_problem(stream: IO[str], header: list[str], start: int, exc: csv.Error) -> tuple[int, str, str]:
    """The line, column and sentence for a row the CSV reader could not read."""
    opened = _open_quote(stream, start)
    if opened is not None:
        line, cell, closed = opened
        field = header[cell] if cell < len(header) and header[cell] else f"column {cell + 1}"
        if closed is None:
            return (
                line,
                field,
                "a quote opens this cell and is never closed, so every later"
                f" line would be read into it; {_QUOTE_ADVICE}",
            )
        return (
            line,
            field,
            f"a quote opened here is closed only on line {closed}, and the row"
            f" it ends cannot be read; {_QUOTE_ADVICE}",
        )
    message = str(exc)
    if "expected after" in message:
        message = f"text follows a closing quote; {_QUOTE_ADVICE}"
    elif "NUL" in message:
        message = "contains a NUL byte, which no text holds"
    return start, "row", message


def _open_quote(stream: IO[str], start: int) -> tuple[int, int, int | None] | None:
    """Where a quoted cell opens in the row starting at line ``start`` and, if it spans lines,
    where it closes (None: never): ``(line, cell, closing line)``. None if no cell spans lines.

    Reads the file again from the top; it runs only when a row could not be read.
    """
    stream.seek(0)
    cell, quoted, after_quote, at_start = 0, False, False, True
    opened: tuple[int, int] | None = None
    for number, line in enumerate(stream, 1):
        if number < start:
            continue
        for char in line:
            if quoted:
                if after_quote:
                    after_quote = False
                    if char == '"':
                        continue  # "" inside a quoted cell
                    quoted = False
                elif char == '"':
                    after_quote = True
                    continue
                else:
                    continue
            if char in "\r\n":
                if opened is not None and opened[0] != number:
                    return (*opened, number)
                return None  # the row ended on this line
            if char == ",":
                cell, at_start = cell + 1, True
            elif char == '"' and at_start:
                quoted, opened, at_start = True, (number, cell), False
            else:
                at_start = False
    if quoted and opened is not None:
        return (*opened, None)
    return None


def _check_spanning(header: list[str], values: list[str], start: int, end: int, kind: str) -> None:
    """Refuse a cell spanning lines that hold what look like whole rows of this file.

    A note may hold line breaks; but a quote typed at the start of a note and another
    typed further down read every row between them into one note, silently.
    """
    key = header.index("date" if kind == "exchanges" else "handle")
    line = start
    for at, value in enumerate(values):
        inner = value.split("\n")
        for text in inner[1:]:
            cells = next(csv.reader([text.rstrip("\r")]), [])
            if len(cells) >= len(header) and _looks_like_key(kind, cells[key]):
                field = header[at] if at < len(header) and header[at] else f"column {at + 1}"
                end = line + len(inner) - 1
                swallowed = f"line {end} was" if end == line + 1 else f"lines {line + 1} to {end} were"
                raise _Unreadable(
                    line,
                    field,
                    f"a quote opened here is closed only on line {end}, so"
                    f" {swallowed} read into this cell; {_QUOTE_ADVICE}",
                )
        line += len(inner) - 1


def _looks_like_key(kind: str, text: str) -> bool:
    if kind == "members":
        return HANDLE_PATTERN.match(text.strip()) is not None
    try:
        dt.date.fromisoformat(text.strip())
    except ValueError:
        return False
    return True


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _check_row(header: list[str], values: list[str], unnamed: bool) -> list[str]:
    """The row's cells, one per column (missing ones empty), if every cell is safe text.

    A line break inside a cell written as CR LF (as some spreadsheets save) becomes LF.
    ``unnamed``: the header has a column with no name, whose cells must be empty.
    """
    width = len(header)
    if len(values) > width:
        raise InputError("has more cells than the header has columns", field="row")
    text = "".join(values)
    if len(text) > MAX_FIELD or _CONTROL.search(text) is not None:
        if "\r\n" in text:
            values = [v.replace("\r\n", "\n") for v in values]
        for field, value in zip(header, values, strict=False):
            check_text(value, field=field or "row", max_length=MAX_FIELD)
    if unnamed:
        for at, value in enumerate(values):
            if not header[at] and value.strip():
                raise InputError(f"{value[:40]!r} is under no column name", field=f"column {at + 1}")
    return values if len(values) == width else values + [""] * (width - len(values))


class ExchangeParser:
    """Reads exchange rows, remembering dates, durations and kinds of care already seen.

    A file of a million exchanges holds a few hundred distinct dates and a handful of
    durations and kinds, so each is read once.
    """

    def __init__(self, recorded_by: str, header: list[str]):
        self.recorded_by = recorded_by
        self.days: dict[str, dt.date] = {}
        self.durations: dict[str, int] = {}
        self.kinds: dict[str, str] = {}
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
                raise InputError("is empty", field="date")
            day = self.days[day_text] = parse_day(day_text, relative=False)
        minutes = self.durations.get(duration)
        if minutes is None:
            minutes = self.durations[duration] = parse_duration(duration)
        kind = self.kinds.get(category)
        if kind is None:
            kind = self.kinds[category] = _restore(category.strip())
        return Exchange(
            givers=split_handles(giver, "giver"),
            receivers=split_handles(receiver, "receiver"),
            minutes=minutes,
            day=day,
            category=kind,
            recorded_by=self.recorded_by,
            note=_restore(note),
            refs=read_refs(_restore(values[self.refs_at])) if self.refs_at is not None else {},
        )


def _open(path: str | Path) -> IO[str]:
    try:
        return open(path, newline="", encoding="utf-8-sig", errors="strict")
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None


def _not_utf8(path: str | Path, exc: UnicodeDecodeError) -> Problem:
    """Why the file could not be read as text, and what to do (a problem of no one line)."""
    if exc.start < 2:
        with open(path, "rb") as raw:
            if raw.read(2) in (b"\xff\xfe", b"\xfe\xff"):
                return Problem("error", "timebank", "byte 0", "the file is UTF-16 text; save it as UTF-8 CSV")
    return Problem(
        "error", "timebank", f"byte {exc.start}", "the file is not UTF-8 text; save it as UTF-8 CSV"
    )


def import_exchanges(
    ledger: Ledger,
    path: str | Path,
    *,
    actor: str,
    dry_run: bool = False,
    acknowledge: bool = False,
    max_errors: int = 100,
) -> int:
    """Import a CSV of exchanges as one transaction; returns how many were recorded (or, in
    a dry run, would be).

    The exchanges go through ``Ledger.write`` like any other. Every problem found, in the
    file or by the rules, is kept as a ``Problem`` at its line and the import is refused
    with them in line order (``ImportRefused``): nothing is written.
    """
    ledger.require(actor, "import", str(path))
    source = str(path)
    found: list[Problem] = []  # the file's own problems, each at its line
    lines: list[int] = []  # the line of each exchange, by its index in the write
    expected: list[tuple[tuple[str, int], ...]] = []

    def batches() -> Iterator[list[Exchange]]:
        batch: list[Exchange] = []
        recorded = None if acknowledge else _Recorded.before_import(ledger)
        with _open(path) as stream:
            try:
                header, rows = _rows(stream, source, "exchanges")
                parse = ExchangeParser(actor, header)
                unnamed = "" in header
                for line, values in rows:
                    try:
                        exchange = parse(_check_row(header, values, unnamed))
                    except InputError as exc:
                        found.append(_problem(line, exc))
                        continue
                    if recorded is not None and (entry := recorded.holds(exchange)):
                        found.append(
                            Problem(
                                "warning",
                                "timebank",
                                "row",
                                f"the ledger already holds this exchange as entry #{entry} (same"
                                " date, people, duration, kind and note), so importing it would"
                                " record it twice",
                                line,
                            )
                        )
                    lines.append(line)
                    batch.append(exchange)
                    if parse.postings_at is not None:  # what the export recorded, to compare
                        expected.append(read_postings(_restore(values[parse.postings_at])))
                    if len(batch) >= BATCH:
                        yield batch
                        batch = []
            except _Unreadable as exc:
                found.append(exc.problem)
            except UnicodeDecodeError as exc:
                found.append(_not_utf8(path, exc))
        if batch:
            yield batch

    def refuse_bad_rows(result: WriteResult) -> None:
        """Before the commit: refuse the whole file if any line has a problem."""
        problems = found + [attrs.evolve(p, index=lines[p.index]) for p in result.problems]
        if compare and not problems:  # rows the rules here record differently
            rows = zip(lines, expected, result.entries, strict=True)
            problems = [p for p in (difference(*row) for row in rows) if p is not None]
        if problems:  # the file's problems first on a line, then the rules'
            problems.sort(key=operator.attrgetter("index"))
            raise ImportRefused(source, problems[:max_errors])

    compare = _has_column(path, POSTINGS)
    # Entries are kept only to compare: a million Entry records cost seconds for nothing.
    result = ledger.write(
        batches(),
        acknowledge=acknowledge,
        dry_run=dry_run,
        importing=True,
        keep_entries=compare,
        check=refuse_bad_rows,
    )
    return result.count


def _has_column(path: str | Path, name: str) -> bool:
    try:
        with _open(path) as stream:
            header = next(csv.reader(stream), [])
    except (csv.Error, UnicodeDecodeError, InputError):
        return False
    return name in (h.strip().lower() for h in header)


class _Recorded:
    """The standing exchanges the ledger held before an import began, read a day at a time.

    A file imported twice (by a slip, or a retry after an error that did not stop the first)
    would record every exchange twice: a row identical to one of them is a warning. Each day
    is read once, so an unsorted file costs what a sorted one does; a ledger with no
    exchanges yet (the usual bulk load) costs nothing.
    """

    def __init__(self, ledger: Ledger, last_id: int):
        self.conn = ledger.conn
        self.last_id = last_id
        # Keyed by the hash of (givers, receivers, minutes, kind, note): a million earlier
        # exchanges cost about 100 MB this way, three times that as tuples of text. Two
        # different exchanges sharing a hash would only give a warning naming the other one.
        self.days: dict[dt.date, dict[int, int]] = {}

    @classmethod
    def before_import(cls, ledger: Ledger) -> _Recorded | None:
        last_id = stored_exchanges.last_service_id(ledger.conn)
        return cls(ledger, last_id) if last_id else None

    def holds(self, exchange: Exchange) -> int | None:
        """The id of an entry recording the same exchange, if there is one."""
        day = self.days.get(exchange.day)
        if day is None:
            day = self.days[exchange.day] = {}
            rows = stored_exchanges.standing_services_of_day(self.conn, exchange.day, self.last_id)
            for givers, receivers, minutes, category, note, entry in rows:
                day[hash((givers, receivers, minutes, category, note))] = entry
        if not day:
            return None
        same = (" ".join(exchange.givers), " ".join(exchange.receivers), exchange.minutes)
        return day.get(hash((*same, exchange.category, exchange.note)))


def import_members(ledger: Ledger, path: str | Path, *, actor: str, dry_run: bool = False) -> int:
    """Import a CSV of members as one transaction; returns how many were added.

    Reads back exactly what ``export_members`` writes, status and leaving day included:
    a member who retired comes back retired.
    """
    source = str(path)
    problems: list[Problem] = []
    count = 0
    seen: set[str] = set()
    try:
        with (
            ledger.transaction(importing=True, settle_claims=not dry_run, dry_run=dry_run),
            _open(path) as stream,
        ):
            header, rows = _rows(stream, source, "members")
            unnamed = "" in header
            try:
                for line, values in rows:
                    try:
                        row = dict(zip(header, _check_row(header, values, unnamed), strict=True))
                        member = _parse_member(row)
                        if member.handle in seen:
                            raise InputError(f"{member.handle!r} appears twice in the file", field="handle")
                        seen.add(member.handle)
                        ledger.add_member(member, actor=actor)
                        count += 1
                    except RulesRefused as exc:
                        problems.extend(attrs.evolve(p, index=line) for p in exc.problems)
                    except InputError as exc:
                        problems.append(_problem(line, exc))
            except _Unreadable as exc:
                problems.append(exc.problem)
            if problems:
                raise ImportRefused(source, problems)
    except UnicodeDecodeError as exc:
        raise InputError(f"{source}: {_not_utf8(path, exc).describe()}") from None
    return count


ROLES = ("member", "coordinator")
STATUSES = ("active", "retired")


def _parse_member(row: dict[str, str]) -> Member:
    """One row as a member, text exactly as written (less the formula quote ``export`` adds).

    Words the ledger checks against a list (class, role, status) and dates may have spaces
    around them; names, areas and flags are kept as they are, so export then import is exact.
    """
    joined_text = row.get("joined", "").strip()
    joined = parse_day(joined_text, field="joined", relative=False) if joined_text else dt.date.today()
    role = _word(row, "role", ROLES) or "member"
    status = _word(row, "status", STATUSES) or "active"
    left_text = row.get("left", "").strip()
    left = parse_day(left_text, field="left", relative=False) if left_text else None
    if status == "retired" and left is None:
        raise InputError("a retired member needs the day they left (YYYY-MM-DD)", field="left")
    if status == "active" and left is not None:
        raise InputError(
            f"{left_text!r} is set but the status is 'active'; only a retired member left", field="left"
        )
    if left is not None and left < joined:
        raise InputError(f"{left} is before the day they joined ({joined})", field="left")
    area = _restore(row.get("area", ""))
    try:
        return Member(
            handle=row.get("handle", "").strip(),
            name=_restore(row.get("name", "")) or _missing("name"),
            member_class=_restore(row.get("member_class", "").strip()),
            joined=joined,
            left=left,
            status=status,  # type: ignore[arg-type]  (checked against STATUSES above)
            role=role,  # type: ignore[arg-type]
            area=area or None,
            flags=split_flags(_restore(row.get("flags", ""))),
        )
    except ValueError as exc:
        raise InputError(str(exc)) from None


def _missing(field: str) -> str:
    raise InputError("is empty", field=field)


def _word(row: dict[str, str], field: str, allowed: tuple[str, ...]) -> str:
    """A cell that must be one of ``allowed`` (or empty): one sentence, not a CHECK constraint."""
    value = _restore(row.get(field, "").strip())
    if value and value not in allowed:
        raise InputError(f"{value!r} is not a {field} here ({' or '.join(allowed)})", field=field)
    return value


def export_exchanges(ledger: Ledger, out: IO[str]) -> int:
    """Write every service entry not reversed as an importable exchanges CSV."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow((*EXCHANGE_COLUMNS, REFS, POSTINGS))
    count = 0
    for (
        day,
        givers,
        receivers,
        minutes,
        category,
        note,
        refs,
        postings,
    ) in stored_exchanges.exported_exchanges(ledger.conn):
        writer.writerow(
            [
                day,
                neutralise(givers.replace(" ", ";")),
                neutralise(receivers.replace(" ", ";")),
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
    """Write every member, retired ones too, as a members CSV that imports back exactly.

    Every text cell is neutralised, not only the free-text ones: a member class or a flag
    is a co-op's own word and may start with ``=`` as well as a name may.
    """
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow((*MEMBER_COLUMNS, "status", "left"))
    members = ledger.members()
    for m in members:
        writer.writerow(
            [
                neutralise(m.handle),
                neutralise(m.name),
                neutralise(m.member_class),
                m.joined.isoformat(),
                neutralise(m.role),
                neutralise(m.area or ""),
                neutralise(";".join(sorted(m.flags))),
                neutralise(m.status),
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
