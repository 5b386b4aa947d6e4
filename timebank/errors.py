"""The errors timebank raises, each carrying one sentence a person can act on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from timebank.models import Problem


class TimebankError(Exception):
    """Base class: the message is one sentence saying what went wrong and where."""


class InputError(TimebankError):
    """Something typed or read from a file cannot be understood (field and value quoted).

    Raised with ``field``, the sentence reads ``field: message`` and the two stay apart on
    the error (``field``, ``detail``), so an importer keeps them as a ``Problem``'s field and
    message without parsing the sentence back. Without, ``field`` is None and ``detail`` is
    the whole sentence.
    """

    def __init__(self, message: str, *, field: str | None = None):
        self.field = field
        self.detail = message
        super().__init__(message if field is None else f"{field}: {message}")


class NotFound(TimebankError):
    """A member, account, entry or claim that the request names does not exist."""


class NotAllowed(TimebankError):
    """The person acting may not do this under the co-op's rules."""


class LedgerCorrupt(TimebankError):
    """The ledger file fails a check that must always hold."""


class RulesRefused(TimebankError):
    """Rules returned problems; ``problems`` holds every one, errors and warnings.

    A refusal caused only by warnings can be retried with the warnings
    acknowledged (a soft limit).
    """

    def __init__(self, problems: Sequence[Problem]):
        self.problems = tuple(problems)
        super().__init__("; ".join(p.describe() for p in self.problems))

    @property
    def only_warnings(self) -> bool:
        return all(p.severity == "warning" for p in self.problems)


class PluginFailed(TimebankError):
    """A plugin raised or returned nonsense; nothing was written and the plugin is named."""

    def __init__(self, plugin: str, hook: str, detail: str):
        self.plugin = plugin
        self.hook = hook
        self.detail = detail
        super().__init__(f"plugin {plugin!r} failed in {hook}: {detail}; nothing was written")


class PluginRefused(TimebankError):
    """A plugin timebank cannot run as written (a hook wrapper): refused when registered."""

    def __init__(self, plugin: str, message: str):
        self.plugin = plugin
        super().__init__(message)
