"""timebank: a plugin-based co-operative time bank and mutual-aid ledger.

Plugins import ``hookimpl`` from here and the records they take and return.
"""

__version__ = "0.1.0"

from timebank.errors import (  # noqa: E402
    InputError,
    NotAllowed,
    NotFound,
    PluginFailed,
    RulesRefused,
    TimebankError,
)
from timebank.hookspecs import hookimpl, hookspec  # noqa: E402
from timebank.models import (  # noqa: E402
    Account,
    Claim,
    Decision,
    Draft,
    Entry,
    Exchange,
    Member,
    Posting,
    Problem,
    Report,
    sub_account,
)
from timebank.publishing.disclosure import Fact, Figure, Measure  # noqa: E402
from timebank.rules import Setting  # noqa: E402

__all__ = [
    "Account",
    "Claim",
    "Decision",
    "Draft",
    "Entry",
    "Exchange",
    "Fact",
    "Figure",
    "InputError",
    "Measure",
    "Member",
    "NotAllowed",
    "NotFound",
    "PluginFailed",
    "Posting",
    "Problem",
    "Report",
    "sub_account",
    "RulesRefused",
    "Setting",
    "TimebankError",
    "hookimpl",
    "hookspec",
]
