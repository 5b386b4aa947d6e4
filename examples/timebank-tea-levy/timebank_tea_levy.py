"""An example third-party plugin: every exchange pays a few minutes into the tea fund.

Installed as its own package and found through the ``timebank`` entry point; enabled
like any plugin (``timebank rules enable tea_levy``).
"""

from timebank import Account, Posting, Setting, hookimpl

__version__ = "0.1.0"


@hookimpl
def declare_settings():
    return [Setting("minutes", "int", 2, "minutes each giver pays into the tea fund per exchange")]


@hookimpl
def declare_system_accounts(settings):
    return [Account("@tea", "fund", "tea fund")]


@hookimpl
def add_postings(ledger, exchanges, postings, settings):
    levy = settings["minutes"]
    return [
        [p for giver in e.givers for p in (Posting(giver, -levy), Posting("@tea", levy))] for e in exchanges
    ]
