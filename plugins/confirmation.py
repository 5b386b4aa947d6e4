"""Who may record what, and whether the other side must confirm.

Modes (setting ``mode``):

- ``other-side-confirms`` (default): a member records an exchange they took part
  in; it waits as a claim until someone on the other side confirms it;
- ``either-records``: a member records an exchange they took part in and it goes
  straight into the ledger;
- ``coordinator-only``: only co-ordinators record exchanges.

Co-ordinators record and confirm for anyone. Who may confirm, reverse, manage
members or change the rules is the core's (``timebank.permissions``), not this
plugin's: disabling it never lets a member do more. ``auto_accept_days``
(0 = never) confirms a claim nobody answered after that many days.
"""

from __future__ import annotations

from timebank import Decision, Problem, Setting, hookimpl

PLUGIN = "confirmation"
MODES = ("other-side-confirms", "either-records", "coordinator-only")


@hookimpl
def declare_settings():
    return [
        Setting("mode", "str", "other-side-confirms", "one of: " + ", ".join(MODES), choices=MODES),
        Setting(
            "auto_accept_days", "int", 0, "confirm unanswered claims after N days (0: never)", min=0, max=365
        ),
    ]


def _refuse(message):
    return Problem("error", PLUGIN, "recorded_by", message)


@hookimpl
def decide_recording(ledger, exchange, actor, settings):
    mode = settings["mode"]
    if mode not in MODES:
        return _refuse(f"the confirmation mode {mode!r} is not one of {', '.join(MODES)}")
    if actor.is_coordinator:
        return Decision()
    if mode == "coordinator-only":
        return _refuse("only a co-ordinator records exchanges in this co-op")
    if actor.handle in exchange.givers:
        other_side = exchange.receivers
    elif actor.handle in exchange.receivers:
        other_side = exchange.givers
    else:
        return _refuse(f"{actor.name} can only record exchanges they took part in")
    if mode == "either-records":
        return Decision()
    return Decision(
        needs_confirmation_from=tuple(other_side),
        auto_accept_days=settings["auto_accept_days"] or None,
    )
