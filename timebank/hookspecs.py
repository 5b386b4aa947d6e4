"""The hook specifications and the two markers, ``hookspec`` and ``hookimpl``.

The markers live here, their one home, and ``timebank`` re-exports ``hookimpl`` for
plugins; this module imports nothing from timebank, so there is no cycle.

timebank calls each plugin's implementation in turn (so a failure can be pinned on
the plugin that caused it) and passes ``settings``, that plugin's own settings from
the rules in force. ``declare_settings`` and ``register_commands`` are called for
every registered plugin (the rules are checked against every plugin's settings, and
commands join before any ledger is open; a command of a plugin the ledger does not
enable refuses to run). ``declare_tables`` is called for every registered plugin too,
with ``settings`` empty, to learn which tables each owns (one plugin's when
``Ledger.plugin_tables`` asks for it; every plugin's when rules are stored or a bundle
restored), and for the enabled plugins with their
settings when rules are stored or a bundle restored, whose statements are then run. Every
other hook is called only for the plugins the rules enable. Hooks that see exchanges take a batch: one
exchange typed in the TUI is a batch of one, an import is many.

``firstresult=True`` is honoured: the first plugin that answers (not None) decides and
later plugins are not called. Each hook's result is checked against the type its
docstring names, for every plugin, in ``timebank.plugin_manager``.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("timebank")
hookimpl = pluggy.HookimplMarker("timebank")


@hookspec
def declare_settings():
    """Return a list of ``Setting`` records: the settings this plugin reads, with defaults.

    The rules refuse a setting no plugin declared and a value of the wrong type; a new
    version of the rules is also refused if a value lies outside the setting's declared
    ``min``/``max``, ``choices``, ``non_empty`` or ``max_length``.
    """


@hookspec
def validate_settings(settings):
    """Return a list of ``Problem`` for relations between this plugin's settings that no
    single setting's range can say (a floor above the ceiling). ``Problem.field`` names the
    setting; an error refuses the whole new version of the rules before it is stored."""


@hookspec
def declare_member_classes(settings):
    """Return a list of member class names this plugin knows (``worker``, ``volunteer``)."""


@hookspec
def declare_categories(settings):
    """Return a list of the kinds of care members may record (``shopping``, ``body care``)."""


@hookspec
def declare_flags(settings):
    """Return a list of the member flags this plugin reads (``supported``, ``oriented``).
    A member may carry only flags an enabled plugin declares."""


@hookspec
def declare_system_accounts(settings):
    """Return a list of ``Account`` records the co-op needs (``@coop``, ``@chest``)."""


@hookspec
def declare_member_accounts(member, settings):
    """Return ``Account`` records a member needs besides their own (``alice~savings``);
    codes are the handle, ``~`` and a name. Created when the member joins or the plugin is
    enabled."""


@hookspec
def declare_tables(settings):
    """Return SQL statements (``CREATE TABLE IF NOT EXISTS ...``) for the plugin's own
    records (referrals, groups, benefit claims). Run when the rules are stored or a bundle
    restored (enabled plugins, their settings); also asked of every registered plugin,
    enabled or not, with ``settings`` empty (``{}``), to learn which tables each owns: the
    answer must not depend on the settings."""


@hookspec
def validate_member(ledger, member, previous, settings):
    """Return a list of ``Problem`` for a member being added (previous None) or changed."""


@hookspec
def validate_exchanges(ledger, exchanges, settings):
    """Return a list of ``Problem`` for a batch of exchanges; ``Problem.index`` names one."""


@hookspec(firstresult=True)
def make_postings(ledger, exchanges, settings):
    """Turn each exchange of a batch into postings: a list with one list of ``Posting``
    per exchange, each summing to zero. The first plugin that answers for an exchange
    decides: return None to leave the whole batch to the next plugin, or None in place of
    any exchange you leave to it (the next plugin sees only those)."""


@hookspec
def add_postings(ledger, exchanges, postings, settings):
    """Return extra postings for each exchange (levies, chest subsidies): a list with one
    list of ``Posting`` per exchange, or None to add nothing. Each entry must still sum
    to zero."""


@hookspec
def validate_drafts(ledger, drafts, settings):
    """Return a list of ``Problem`` for a batch of ``Draft`` entries about to be written;
    each draft carries ``balances_after``, every touched account's balance after it."""


@hookspec(firstresult=True)
def decide_recording(ledger, exchange, actor, settings):
    """Say how ``actor`` (a ``Member``) may record ``exchange``: a ``Decision``, or a
    ``Problem`` if they may not record it at all. The first plugin that answers decides."""


@hookspec
def check_permission(ledger, actor, action, subject, settings):
    """Return a list of ``Problem`` if ``actor`` may not perform ``action`` on ``subject``.
    Actions: ``confirm``, ``decline``, ``transfer``, ``reverse``, ``manage_members``,
    ``change_rules``, ``close_period``, ``import`` and any a plugin asks ``ledger.require``
    about. Only narrows: the core (``timebank.permissions``) refuses first and asks plugins
    only about what it allows, so returning ``[]`` never lets anyone do more."""


@hookspec
def entries_for_member_change(ledger, member, previous, settings):
    """Return ``Draft`` entries to write with a member's admission (previous None) or change,
    in the same transaction: a joining bonus, a leaver's balance returned to the chest."""


@hookspec
def close_period(ledger, through, settings):
    """Return ``Draft`` entries (kind ``adjustment``) for closing the period that ends on
    the date ``through``: demurrage, contributions into a fund, expiry. Written together."""


@hookspec
def make_reports(ledger, since, until, settings):
    """Return ``Report`` records a co-ordinator checks (activity by class, inactive members,
    fund health) for the days ``since`` to ``until`` (dates, both included); a report that
    is not about a period may ignore them (leave the arguments out)."""


@hookspec
def member_limits(ledger, members, settings):
    """Return ``{handle: Limits}`` for those of ``members`` (``Member`` records) whose
    balance this plugin bounds, or None. Reports and the terminal UI ask here rather than
    reading each plugin's settings; when several plugins answer, the tightest limit holds."""


@hookspec
def near_limit_within(settings):
    """Return how many minutes from a member's floor or ceiling count as near it (an int),
    or None. The terminal UI marks such balances; when several plugins answer, the
    widest holds (``Ledger.near_limit_within``)."""


@hookspec
def exchange_fields(ledger, settings):
    """Return a list of ``ExchangeField`` records: what else this plugin needs to know when an
    exchange is recorded (the sector of an A+B co-op's work), kept in ``Exchange.refs``
    under each field's name. The TUI's Log screen shows one input per field and
    ``timebank log`` takes ``--ref name=value``; ``validate_exchanges`` still decides."""


@hookspec
def contribute_public_figures(ledger, settings, through):
    """Declare what the plugin publishes: ``Measure`` records (facts: a month, dimension
    values, whose contribution it is, an amount) and ``Figure`` records (a table by month
    and at most one dimension over a measure, or a weighted or signed sum of measures,
    or a running total). The core computes, suppresses, audits and freezes them like its
    own figures; a plugin never writes a published row. ``through`` is the last day the
    publication covers; facts after it are ignored."""


@hookspec
def after_entries_recorded(ledger, entries, settings):
    """Called with the written ``Entry`` records once their transaction has committed."""


@hookspec
def add_tui_screens(settings):
    """Return ``(name, title, screen_class)`` tuples: Textual screens the terminal UI offers
    in its command palette (referrals for social prescribing). Import Textual inside the
    hook so the plugin loads without the TUI."""


@hookspec
def add_demo_records(ledger, members, exchanges, today, seed, actor, settings):
    """Record this plugin's own records in the demo co-op (``timebank demo``): called once its
    ``members`` (``Member`` records, in the order they joined) have joined and before its
    ``exchanges`` (not yet recorded) are, so a rule those exchanges meet can be met
    (safeguarding records the checks that checked care needs). ``actor`` is the demo's
    co-ordinator; ``seed`` makes what the plugin invents the same on every run. The result
    is not used."""


@hookspec
def register_commands(cli):
    """Add click commands to the ``timebank`` command group ``cli``."""


@hookspec
def validate_listing(ledger, listing, settings):
    """Return a list of ``Problem`` for an offer or request (a ``Listing``) about to be
    posted or changed; an error refuses it (safeguarding: care that needs a current check)."""


@hookspec
def refuse_matches(ledger, listing, matches, settings):
    """Return a list of ``Problem`` for ``Match`` records found for ``listing``;
    ``Problem.index`` names the match, which is then not offered."""


@hookspec(firstresult=True)
def rank_matches(ledger, listing, matches, settings):
    """Return the ``Match`` records for ``listing`` in the order the co-op prefers (the same
    records, reordered), or None to keep the core's order. The first plugin that answers
    decides."""
