"""An input that picks members by typing part of a handle or a name.

Completes a handle inline as you type its start (accept with the right arrow) and shows
the best matches by handle or name underneath; a unique match is accepted on save.
"""

from __future__ import annotations

from textual.suggester import Suggester

from timebank.errors import InputError
from timebank.ledger import Ledger
from timebank.units import split_handles


class MemberSuggester(Suggester):
    """Suggests the first active member whose handle starts with the last name typed."""

    def __init__(self, ledger: Ledger) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.ledger = ledger

    async def get_suggestion(self, value: str) -> str | None:
        head, last = _last_piece(value)
        last = last.strip().lower()
        if not last:
            return None
        for member in self.ledger.find_members(last, limit=5):
            if member.handle.startswith(last):
                return f"{head}{member.handle}"
        return None


def _last_piece(value: str) -> tuple[str, str]:
    """What was typed before the last member (with its separator) and the last member being
    typed; separators as ``units.split_handles`` reads them."""
    cut = max(value.rfind(","), value.rfind(";")) + 1
    return value[:cut], value[cut:]


def matches_text(ledger: Ledger, value: str, limit: int = 4) -> str:
    """The best matches for the last name typed: ``alice Alice Ames · alan Alan Ng``."""
    last = _last_piece(value)[1].strip()
    if not last:
        return ""
    found = ledger.find_members(last, limit=limit)
    return " · ".join(f"{m.handle} {m.name}" for m in found) or f"no member matches {last!r}"


def resolve_handles(ledger: Ledger, value: str, field: str) -> tuple[str, ...]:
    """Turn what was typed into handles: exact handles, or a unique match by handle or name."""
    members = ledger.members_by_handle()
    handles = []
    for token in split_handles(value, field, names=True):
        if token in members:
            handles.append(token)
            continue
        found = ledger.find_members(token, limit=2)
        if len(found) == 1:
            handles.append(found[0].handle)
        elif not found:
            raise InputError(f"{field}: no member matches {token!r}")
        else:
            raise InputError(
                f"{field}: {token!r} matches {found[0].handle}, {found[1].handle}, ...; type more"
            )
    return tuple(handles)
