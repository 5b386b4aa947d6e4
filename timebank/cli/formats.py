"""``--format text|json|csv``: one way for every listing command to print rows.

A command builds its rows as dicts with stable field names (minutes as integers, days as
ISO dates, lists as lists) and says how to show them as text; this module prints them as
JSON (a list of objects) or CSV (a header, then one line a row, text made formula-safe as
in every other export; a list is joined with ``;``). Field names are documented in the
README and do not change with the text layout.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import click

from timebank.interchange.csvio import neutralise
from timebank.models import Entry

FORMATS = ("text", "json", "csv")


def format_option(f: Callable) -> Callable:
    """The ``--format`` option every listing command takes."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default="text",
        show_default=True,
        help="text for people; json or csv (integer minutes, stable field names) for programs.",
    )(f)


def _cell(value: Any) -> Any:
    if isinstance(value, list | tuple):
        value = ";".join(str(v) for v in value)
    if isinstance(value, str):
        return neutralise(value)
    return "" if value is None else value


def emit(
    fmt: str,
    rows: Sequence[Mapping[str, Any]],
    text: Callable[[], None],
    *,
    columns: Sequence[str] | None = None,
) -> None:
    """Print ``rows`` as JSON or CSV, or call ``text`` to print them for people."""
    if fmt == "json":
        click.echo(json.dumps([dict(r) for r in rows], ensure_ascii=False, indent=1, default=str))
    elif fmt == "csv":
        fields = list(columns or (rows[0].keys() if rows else ()))
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(fields)
        for row in rows:
            writer.writerow([_cell(row.get(field)) for field in fields])
    else:
        text()


def entry_rows(entry: Entry) -> dict[str, Any]:
    """One entry with its postings, for ``show`` and anything else that prints entries."""
    return {
        "entry": entry.id,
        "day": entry.day.isoformat(),
        "kind": entry.kind,
        "recorded_by": entry.recorded_by,
        "recorded_at": entry.recorded_at,
        "rules_version": entry.rules_version,
        "reverses": entry.reverses,
        "givers": list(entry.givers),
        "receivers": list(entry.receivers),
        "minutes": entry.minutes,
        "category": entry.category,
        "refs": dict(entry.refs),
        "note": entry.note,
        "hash": entry.hash,
        "postings": [
            {"seq": i, "account": p.account, "minutes": p.amount} for i, p in enumerate(entry.postings)
        ],
    }


__all__ = ["FORMATS", "emit", "entry_rows", "format_option"]
