"""Minutes and days: parse what people type, show what the ledger holds.

Time is stored as integer minutes and never as a float, so that no hour of care
is lost to rounding. People type hours in many ways (``1.5``, ``1h30``, ``90m``,
``1:30``); this module is the one place that reads them, and every error quotes
what was typed so the person can see their typo. Minutes after an hour part run 0 to 59
(``1h99`` is a typo, not 2h39), and decimal hours take no minutes after them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from timebank.errors import InputError
from timebank.models import Posting

NO_CREDITS = "no credits move (recorded for reporting)"

_HOURS_MINUTES = re.compile(
    r"^(?:(?P<h>\d+(?:\.\d+)?)\s*(?:h|hr|hrs|hour|hours))?\s*"
    r"(?:(?P<m>\d+)\s*(?:m|min|mins|minute|minutes)?)?$"
)
_CLOCK = re.compile(r"^(?P<h>\d+):(?P<m>[0-5]\d)$")
_DECIMAL_HOURS = re.compile(r"^\d+(?:\.\d+)?$|^\.\d+$")


def parse_minutes(text: str, *, field: str = "duration") -> int:
    """Read a signed amount of time (a setting such as a credit floor of ``-10h``).

    Returns integer minutes. A decimal number is hours; a fraction of a minute
    is an error rather than a silent rounding.
    """
    raw = str(text)
    cleaned = raw.strip().lower()
    sign = 1
    if cleaned.startswith(("-", "−")):
        sign, cleaned = -1, cleaned[1:].strip()
    elif cleaned.startswith("+"):
        cleaned = cleaned[1:].strip()
    if not cleaned:
        raise InputError(f"{raw!r} is not a duration; try 1.5, 1h30, 90m or 1:30", field=field)
    if _DECIMAL_HOURS.match(cleaned):
        minutes = _hours_to_minutes(cleaned, raw, field)
    elif match := _CLOCK.match(cleaned):
        minutes = int(match["h"]) * 60 + int(match["m"])
    elif (match := _HOURS_MINUTES.match(cleaned)) and (match["h"] or match["m"]):
        minutes = (_hours_to_minutes(match["h"], raw, field) if match["h"] else 0) + _minutes_part(
            match, raw, field
        )
    else:
        raise InputError(f"{raw!r} is not a duration; try 1.5, 1h30, 90m or 1:30", field=field)
    return sign * minutes


def _minutes_part(match: re.Match[str], raw: str, field: str) -> int:
    """The minutes of ``1h30`` or ``90m``: after an hour part they are 0–59, as on a clock.

    ``1h99`` is a typo, not 2h39, and ``1.5h30`` means nothing anyone would say: both are
    refused rather than read as a sum.
    """
    if match["m"] is None:
        return 0
    minutes = int(match["m"])
    if match["h"] is not None:
        if "." in match["h"]:
            raise InputError(
                f"{raw!r} has decimal hours followed by minutes; write 1.5h or 1h30, not both", field=field
            )
        if minutes > 59:
            raise InputError(
                f"{raw!r} has {minutes} minutes after the hours; minutes after hours run 0 to 59", field=field
            )
    return minutes


def _hours_to_minutes(hours: str, raw: str, field: str) -> int:
    try:
        minutes = Decimal(hours) * 60
    except InvalidOperation:
        raise InputError(f"{raw!r} is not a duration; try 1.5, 1h30, 90m or 1:30", field=field) from None
    if minutes != minutes.to_integral_value():
        raise InputError(f"{raw!r} is not a whole number of minutes", field=field)
    return int(minutes)


def parse_duration(text: str, *, field: str = "duration") -> int:
    """Read the length of one exchange: more than zero.

    How long one exchange or one day may be is a rule, not a spelling: the plugin that owns
    it says (``classic``'s ``max_per_day``, at most 24 hours, refuses an exchange longer than
    a day's worth when it is recorded, imported or confirmed).
    """
    minutes = parse_minutes(text, field=field)
    if minutes <= 0:
        raise InputError(f"{str(text)!r} must be more than zero", field=field)
    return minutes


def format_minutes(minutes: int) -> str:
    """Show minutes as people say them: ``1h30``, ``2h``, ``45m``, ``-9h30``."""
    sign = "-" if minutes < 0 else ""
    hours, rest = divmod(abs(minutes), 60)
    if hours and rest:
        return f"{sign}{hours}h{rest:02d}"
    if hours:
        return f"{sign}{hours}h"
    return f"{sign}{rest}m"


def postings_text(
    postings: Iterable[Posting] | Iterable[tuple[str, int]], *, nothing: str = NO_CREDITS
) -> str:
    """Postings as people read them, the one way every message shows them:
    ``alice +1h30, bob -1h30``. Takes ``Posting`` records or ``(account, minutes)`` pairs
    (an imported file's); ``nothing`` is said when no credits move (paid care)."""
    pairs = [(p.account, p.amount) if isinstance(p, Posting) else p for p in postings]
    if not pairs:
        return nothing
    return ", ".join(
        f"{account} {'+' if amount > 0 else ''}{format_minutes(amount)}" for account, amount in pairs
    )


def format_hours(minutes: int) -> str:
    """Show minutes as decimal hours for tables: ``1.50 h``.

    Rounded half up to two places in integer arithmetic (61 minutes is 1.0166... h,
    shown 1.02 h), so a table never shows less time than the ledger holds.
    """
    sign = "-" if minutes < 0 else ""
    hundredths = (abs(minutes) * 100 + 30) // 60
    hours, rest = divmod(hundredths, 100)
    return f"{sign}{hours}.{rest:02d} h"


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
_DAY_MONTH = re.compile(
    r"^(?P<d>\d{1,2})(?:/(?P<m>\d{1,2})|\s+(?P<name>[a-z]+)\.?)(?:[/\s]+(?P<y>\d{2}|\d{4}))?$"
)
DATE_HINT = "try today, yesterday, -2, saturday, last sat, 21/11, 21 Nov or 2026-11-21"


def _named(word: str, names: tuple[str, ...]) -> int | None:
    """The index of the name ``word`` spells or starts (three letters at least)."""
    if len(word) < 3:
        return None
    found = [i for i, name in enumerate(names) if name.startswith(word)]
    return found[0] if len(found) == 1 else None


def parse_day(
    text: str | None, *, today: dt.date | None = None, field: str = "date", relative: bool = True
) -> dt.date:
    """Read the day of a service as people say it, the one reader for the CLI and the TUI.

    ``today``, ``yesterday``, ``-2`` (days ago), a weekday (``saturday``, ``last sat``: the
    latest such day not in the future), the UK day first (``21/11``, ``21/11/2026``,
    ``21 Nov``; without a year, the latest such day not in the future) or ISO ``2026-11-21``.
    A file is read with ``relative=False``: ISO dates only, since ``today`` or ``saturday``
    in a file would mean the day it happens to be imported, and move if imported again.
    """
    today = today or dt.date.today()
    raw = "" if text is None else str(text)
    cleaned = " ".join(raw.strip().lower().split())
    if not relative:
        day = _iso_day(cleaned, raw, field, "a file needs YYYY-MM-DD")
    elif cleaned in ("", "today"):
        return today
    elif cleaned == "yesterday":
        return today - dt.timedelta(days=1)
    elif re.fullmatch(r"-\d{1,4}", cleaned):
        return today - dt.timedelta(days=int(cleaned[1:]))
    elif (weekday := _named(cleaned.removeprefix("last ").rstrip("."), _WEEKDAYS)) is not None:
        return today - dt.timedelta(days=(today.weekday() - weekday) % 7)
    elif match := _DAY_MONTH.match(cleaned):
        day = _day_month(match, raw, today, field)
    else:
        day = _iso_day(cleaned, raw, field, DATE_HINT)
    if not 1900 <= day.year <= 2200:
        raise InputError(f"{raw!r} is out of range", field=field)
    return day


def _iso_day(cleaned: str, raw: str, field: str, hint: str) -> dt.date:
    try:
        return dt.date.fromisoformat(cleaned)
    except ValueError:
        raise InputError(f"{raw!r} is not a date; {hint}", field=field) from None


def _day_month(match: re.Match[str], raw: str, today: dt.date, field: str) -> dt.date:
    month = int(match["m"]) if match["m"] else _named(match["name"], _MONTHS)
    if month is None:
        raise InputError(f"{raw!r} is not a date; {DATE_HINT}", field=field)
    if match["name"] is not None:
        month += 1
    year = match["y"]
    try:
        if year is not None:
            return dt.date(int(year) + (2000 if len(year) == 2 else 0), month, int(match["d"]))
        day = dt.date(today.year, month, int(match["d"]))
        return day if day <= today else day.replace(year=today.year - 1)
    except ValueError:
        raise InputError(f"{raw!r} is not a day of the calendar", field=field) from None


def split_handles(text: str, field: str, *, names: bool = False) -> tuple[str, ...]:
    """The members one field names, wherever it is typed (a CSV file, the command line,
    the terminal UI), by one rule:

    a comma or a semicolon separates members (``alice,bob``, ``alice; bob``), and so does
    white space (``alice bob``), since a handle never contains one; blank pieces and the
    spaces around each are dropped. With ``names`` (the TUI, which also finds a member by
    part of their name) white space stays inside a piece: ``Alice Ames, bob`` is two.
    Naming nobody is refused in one sentence naming ``field``.
    """
    if text.isalnum():  # the common case, a million times in an import: one plain handle
        return (text,)
    pieces = text.replace(";", ",").split(",")
    if not names:
        pieces = [word for piece in pieces for word in piece.split()]
    found = tuple(piece.strip() for piece in pieces if piece.strip())
    if not found:
        raise InputError("name at least one member", field=field)
    return found


def split_flags(text: str) -> frozenset[str]:
    """The flags one field names (a CSV file's ``flags`` cell, the TUI's member form): a
    comma or a semicolon separates them, blank pieces and the spaces around each are
    dropped. Whether each is a flag at all is ``check_flag``'s to say."""
    return frozenset(piece.strip() for piece in text.replace(";", ",").split(",") if piece.strip())


def split_evenly(total: int, parts: int) -> list[int]:
    """Share ``total`` minutes among ``parts``; the first ones take a remainder minute each.

    Integer minutes never lose a minute: the shares always add up to ``total``.
    """
    share, rest = divmod(total, parts)
    return [share + (1 if i < rest else 0) for i in range(parts)]


def to_hours(minutes: int | None) -> float | None:
    """Minutes as hours to two decimals, for published figures (None stays None: suppressed).

    Published tables carry both: integer ``minutes`` to reconcile exactly with the ledger,
    ``hours`` for people to read.
    """
    return None if minutes is None else round(minutes / 60, 2)


# What free text may not hold: C0 and C1 control characters (ESC starts an ANSI sequence,
# U+009B is a one-character CSI on some terminals), line and paragraph breaks of any kind,
# the bidirectional overrides and isolates that reorder what a reader sees
# ("Trojan Source"), and lone surrogates, which cannot be stored as UTF-8.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")

NAME_LENGTH = 200
NOTE_LENGTH = 2000


def text_fault(value: object, max_length: int = NOTE_LENGTH) -> str | None:
    """What is wrong with a piece of free text, or None: the rule behind ``check_text``."""
    if not isinstance(value, str):
        return f"{value!r} is not text"
    if len(value) > max_length:
        return f"{value[:20]!r}… is longer than {max_length} characters"
    if _UNSAFE.search(value):
        return f"{value[:40]!r} contains control characters or line breaks"
    return None


def check_text(value: str, *, field: str, max_length: int = NOTE_LENGTH) -> str:
    """The one check for every piece of free text the ledger keeps: names, notes, reasons,
    areas, flags, kinds of care, group names, settings.

    Text is one line of at most ``max_length`` characters with no control characters,
    so that nothing a member types can forge a line, move the cursor or recolour what a
    co-ordinator later reads in a statement. The ledger's own methods apply it, so the
    CLI, the TUI and importers all get the same answer.
    """
    fault = text_fault(value, max_length)
    if fault is not None:
        raise InputError(fault, field=field)
    return value


def printable(text: str) -> str:
    """Stored text made safe to show on a terminal: control characters and breaks are
    written as escapes (``\\x1b``, ``\\n``). Older ledgers may hold them."""
    if not _UNSAFE.search(text):
        return text
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


_NOT_IN_A_FLAG = re.compile(r"[\s,;\x00-\x1f\x7f]")


def check_flag(flag: str, *, field: str = "flags") -> str:
    """Refuse a flag that is not one word: a ``,`` or ``;`` would split it in two when the
    ledger stores it or a CSV carries it, and silently give the member flags nobody set."""
    if not flag or _NOT_IN_A_FLAG.search(flag) or len(flag) > 64:
        raise InputError(
            f"{flag[:40]!r} is not a flag; a flag is one word of at most 64 characters"
            " (no spaces, commas or semicolons)",
            field=field,
        )
    return flag
