"""Weighted and percentage credits: the one rounding rule every plugin uses.

Credits stay integer minutes. Where a rule multiplies time (a weight of 1.5, a levy of
2.5 %, demurrage of 6 % a year), the exact product is computed with ``Decimal`` and
rounded once, to the nearest whole minute, halves away from zero (45 min × 1.5 = 67.5 ->
68). Computing on ``Decimal`` keeps the result the same on every machine.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def scale(minutes: int, factor: str | Decimal) -> int:
    """``minutes × factor``, rounded to the nearest minute, halves away from zero."""
    return int((Decimal(minutes) * Decimal(factor)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def percent_of(minutes: int, percent: str | Decimal) -> int:
    """``percent`` % of ``minutes``, rounded as ``scale`` rounds."""
    return scale(minutes, Decimal(percent) / 100)
