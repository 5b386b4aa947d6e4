"""Disclosure control for published figures: small cells are suppressed, and so are partners.

Every published row says how many distinct members it is drawn from. A row drawn from
fewer than *k* members (but more than none) is suppressed: its figures are published as
NULL (primary suppression). Rows are published in groups that add up to a total published
elsewhere (the kinds of care in one month add up to that month's hours). If a group has
exactly one suppressed row, the total minus the others would give it away, so the
smallest other row of the group is suppressed too (complementary suppression); two or
more suppressed rows only ever reveal their sum. A group's own total row takes part like
any other row: if it is drawn from fewer than *k* members, so is every row in it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import attrs


@attrs.frozen
class PublicTable:
    """A table of aggregates for the public file, before suppression.

    ``rows`` are tuples in ``columns`` order; one column is ``members`` (how many distinct
    members the row is drawn from). ``values`` names the columns nulled, with ``members``,
    when a row is suppressed; ``group`` names the column (or columns) whose rows add up to a
    published total (None: the whole table is one group). ``total`` is the label that marks
    a group's total row in the ``group_label`` column, if the table carries its own totals.
    """

    name: str
    title: str
    description: str
    columns: tuple[str, ...] = attrs.field(converter=tuple)
    rows: tuple[tuple[Any, ...], ...] = attrs.field(converter=tuple)
    values: tuple[str, ...] = attrs.field(converter=tuple)
    group: str | tuple[str, ...] | None = None
    group_label: str | None = None
    total: str | None = None


def suppress(table: PublicTable, k: int) -> tuple[list[tuple[Any, ...]], int, int]:
    """Rows with small cells nulled and a ``suppressed`` column added (0, 1 primary, 2 complementary).

    Returns the rows and how many rows were suppressed by each rule.
    """
    columns = list(table.columns)
    at_members = columns.index("members")
    keys = (table.group,) if isinstance(table.group, str) else (table.group or ())
    at_group = [columns.index(key) for key in keys]
    at_label = columns.index(table.group_label) if table.group_label else None
    values = [columns.index(c) for c in table.values] + [at_members]  # the count itself is small too
    flags = [1 if 0 < row[at_members] < k else 0 for row in table.rows]
    groups: dict[Any, list[int]] = defaultdict(list)
    for i, row in enumerate(table.rows):
        groups[tuple(row[at] for at in at_group)].append(i)
    for members in groups.values():
        parts = [i for i in members if at_label is None or table.rows[i][at_label] != table.total]
        totals = [i for i in members if i not in parts]
        if totals and all(flags[i] for i in totals):
            continue  # the group's total is hidden too: nothing to subtract from
        hidden = [i for i in parts if flags[i]]
        if len(hidden) == 1 and len(parts) >= 2:
            partner = min(
                (i for i in parts if not flags[i]),
                key=lambda i: (table.rows[i][at_members], _first_value(table.rows[i], values)),
            )
            flags[partner] = 2
    out = []
    for row, flag in zip(table.rows, flags, strict=True):
        cells = list(row)
        if flag:
            for i in values:
                cells[i] = None
        out.append((*cells, flag))
    return out, flags.count(1), flags.count(2)


def _first_value(row: Sequence[Any], values: list[int]) -> Any:
    for i in values:
        if row[i] is not None:
            return row[i]
    return 0
