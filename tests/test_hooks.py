"""Every hook: its own test here, and its exact signature in docs/plugins.md."""

import datetime as dt
import inspect
import re
import types
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from helpers import exchange

from timebank import (
    Account,
    Decision,
    Draft,
    Posting,
    Problem,
    Report,
    Setting,
    hookimpl,
    hookspecs,
    sub_account,
)
from timebank.errors import InputError, NotAllowed, PluginFailed, PluginRefused, RulesRefused
from timebank.ledger import Ledger
from timebank.models import Member
from timebank.permissions import SYSTEM
from timebank.plugin_manager import Plugins, _result_checks
from timebank.testing import build_ledger, snapshot_rows

ROOT = Path(__file__).parent.parent
HOOKS = [name for name, f in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(f, "timebank_spec")]


def signature(name: str) -> str:
    return f"{name}{inspect.signature(getattr(hookspecs, name))}"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_with_its_exact_signature(hook):
    guide = (ROOT / "docs" / "plugins.md").read_text()
    assert f"`{signature(hook)}`" in guide, f"docs/plugins.md lacks `{signature(hook)}`"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_its_own_test(hook):
    source = Path(__file__).read_text()
    assert re.search(rf"^(async )?def test_hook_{hook}\(", source, re.M), f"no test_hook_{hook}"


def ledger_with(tmp_path, plugin, name="extra", settings=None):
    """A ledger whose rules enable the built-ins and ``plugin`` under ``name``."""
    plugins = Plugins(entry_points=False)
    plugins.register(plugin, name)
    return build_ledger(
        tmp_path / "l.sqlite",
        plugins=plugins,
        rules={
            "plugins": {
                "classic": {},
                "credit_limits": {},
                "confirmation": {},
                name: settings or {},
            }
        },
        members={"alice": "member", "bob": "member"},
    )


def test_hook_declare_settings(tmp_path):
    class P:
        @hookimpl
        def declare_settings(self):
            return [Setting("bonus", "minutes", 120, "joining bonus")]

    led = ledger_with(tmp_path, P(), settings={"bonus": "3h"})
    assert led.rules.settings("extra") == {"bonus": 180}
    with pytest.raises(Exception, match="plugins.extra: unknown setting 'bonsu'"):
        led.set_rules({"plugins": {"extra": {"bonsu": 1}}}, actor="coord")
    with pytest.raises(Exception, match="plugins.extra.bonus: 'lots' is not a duration"):
        led.set_rules({"plugins": {"extra": {"bonus": "lots"}}}, actor="coord")


def test_hook_validate_settings(tmp_path):
    class Window:
        @hookimpl
        def declare_settings(self):
            return [
                Setting("opens", "int", 9, "first hour", min=0, max=23),
                Setting("closes", "int", 17, "last hour", min=0, max=23),
            ]

        @hookimpl
        def validate_settings(self, settings):
            if settings["opens"] >= settings["closes"]:
                return [Problem("error", "extra", "opens", f"{settings['opens']} is not before closes")]
            return []

    led = ledger_with(tmp_path, Window())
    before = led.rules.version
    with pytest.raises(InputError, match=r"^plugins.extra.opens: 18 is not before closes$"):
        led.change_settings("extra", {"opens": 18}, actor="coord")
    with pytest.raises(
        InputError, match=r"^plugins.extra.closes: 24 is out of range; it must be from 0 to 23$"
    ):
        led.change_settings("extra", {"closes": 24}, actor="coord")
    assert led.rules.version == before, "a refused rules version is not stored"
    assert (
        led.change_settings("extra", {"opens": 8, "closes": 20}, actor="coord").settings("extra")["opens"]
        == 8
    )


def test_hook_declare_member_classes(tmp_path):
    class P:
        @hookimpl
        def declare_member_classes(self, settings):
            return ["worker", "volunteer"]

    led = ledger_with(tmp_path, P())
    assert set(led.member_classes()) == {"member", "worker", "volunteer"}
    led.add_member(Member("wendy", "Wendy", "worker", dt.date(2024, 1, 1)), actor="coord")


def test_hook_declare_categories(tmp_path):
    class P:
        @hookimpl
        def declare_categories(self, settings):
            return ["body care"]

    led = ledger_with(tmp_path, P())
    assert "body care" in led.categories()
    led.record(exchange(category="body care"))


def test_hook_declare_system_accounts(tmp_path):
    class P:
        @hookimpl
        def declare_system_accounts(self, settings):
            return [Account("@chest", "chest", "community chest")]

    led = ledger_with(tmp_path, P())
    assert led.account("@chest").kind == "chest"
    assert led.balance("@chest") == 0


def test_hook_validate_member(tmp_path):
    class P:
        @hookimpl
        def declare_member_classes(self, settings):
            return ["guest"]

        @hookimpl
        def validate_member(self, ledger, member, previous, settings):
            if member.area is None and member.member_class != "member":
                return [Problem("error", "extra", "area", "every member needs an area")]
            return []

    led = ledger_with(tmp_path, P())
    with pytest.raises(RulesRefused, match="area: every member needs an area"):
        led.add_member(Member("zed", "Zed", "guest", dt.date(2024, 1, 1)), actor="coord")


def test_hook_validate_exchanges(tmp_path):
    class P:
        @hookimpl
        def validate_exchanges(self, ledger, exchanges, settings):
            return [
                Problem("error", "extra", "note", "say what you did", i)
                for i, e in enumerate(exchanges)
                if not e.note
            ]

    led = ledger_with(tmp_path, P())
    with pytest.raises(RulesRefused) as caught:
        led.record_many([exchange(note="tea"), exchange()])
    assert [(p.index, p.field) for p in caught.value.problems] == [(1, "note")]
    assert led.balance("alice") == 0


def test_hook_make_postings(tmp_path):
    class Doubled:
        @hookimpl(tryfirst=True)
        def make_postings(self, ledger, exchanges, settings):
            return [
                [Posting(e.givers[0], 2 * e.minutes), Posting("@coop", -2 * e.minutes)] for e in exchanges
            ]

    led = ledger_with(tmp_path, Doubled())
    entry = led.record(exchange(minutes=30))
    assert entry.postings == (Posting("alice", 60), Posting("@coop", -60))


def test_hook_make_postings_answers_exchange_by_exchange(tmp_path):
    """None in place of an exchange leaves it to the next plugin, which sees only those."""
    seen = []

    class NightCare:
        @hookimpl(tryfirst=True)
        def make_postings(self, ledger, exchanges, settings):
            return [
                [Posting(e.givers[0], 2 * e.minutes), Posting("@coop", -2 * e.minutes)]
                if e.note == "night"
                else None
                for e in exchanges
            ]

    class Watcher:
        @hookimpl
        def make_postings(self, ledger, exchanges, settings):
            seen.append([e.note for e in exchanges])

    led = ledger_with(tmp_path, NightCare())
    led.plugins.register(Watcher(), "watcher")
    led.change_settings("watcher", {}, actor="coord")
    night, day = exchange(minutes=30, note="night"), exchange(minutes=30, note="day")
    entries = led.record_many([day, night, day])
    assert [e.postings for e in entries] == [
        (Posting("alice", 30), Posting("bob", -30)),
        (Posting("alice", 60), Posting("@coop", -60)),
        (Posting("alice", 30), Posting("bob", -30)),
    ]
    assert seen == [["day", "day"]], "the next plugin is asked only about the exchanges left to it"


def test_an_exchange_no_plugin_posts_is_refused_by_name(tmp_path):
    class OnlyNight:
        @hookimpl
        def declare_member_classes(self, settings):
            return ["member"]

        @hookimpl
        def declare_categories(self, settings):
            return ["shopping"]

        @hookimpl(tryfirst=True)
        def make_postings(self, ledger, exchanges, settings):
            return [[] if e.note == "night" else None for e in exchanges]

    plugins = Plugins(entry_points=False)
    plugins.register(OnlyNight(), "only_night")
    led = build_ledger(
        tmp_path / "l.sqlite", rules={"plugins": {"only_night": {}}}, plugins=plugins, coordinator=False
    )
    led.add_member(Member("alice", "Alice", "member", dt.date(2024, 1, 1)), actor=SYSTEM)
    led.add_member(Member("bob", "Bob", "member", dt.date(2024, 1, 1)), actor=SYSTEM)
    before = snapshot_rows(led)
    with pytest.raises(PluginFailed, match="no enabled plugin turns shopping on .* into postings"):
        led.record_many([exchange(note="night", recorded_by="alice"), exchange(recorded_by="alice")])
    assert snapshot_rows(led) == before


def test_hook_add_postings(tmp_path):
    class Levy:
        @hookimpl
        def add_postings(self, ledger, exchanges, postings, settings):
            return [
                [Posting(e.givers[0], -e.minutes // 10), Posting("@coop", e.minutes // 10)] for e in exchanges
            ]

    led = ledger_with(tmp_path, Levy())
    led.record(exchange(minutes=60))
    assert (led.balance("alice"), led.balance("bob"), led.balance("@coop")) == (54, -60, 6)


def test_hook_validate_drafts(tmp_path):
    class NoNegative:
        @hookimpl
        def validate_drafts(self, ledger, drafts, settings):
            return [
                Problem("warning", "extra", "receiver", f"{code} goes negative", i)
                for i, d in enumerate(drafts)
                for code, v in d.balances_after.items()
                if v < 0
            ]

    led = ledger_with(tmp_path, NoNegative())
    with pytest.raises(RulesRefused, match="bob goes negative"):
        led.record(exchange())
    led.record(exchange(), acknowledge=True)


def test_hook_decide_recording(tmp_path):
    class CoordinatorConfirms:
        @hookimpl(tryfirst=True)
        def decide_recording(self, ledger, exchange, actor, settings):
            return None if actor.is_coordinator else Decision(needs_confirmation_from=("coord",))

    led = ledger_with(tmp_path, CoordinatorConfirms())
    claim = led.record(exchange(recorded_by="alice"))
    assert claim.awaiting == ("coord", "bob")  # and bob, whom it charges: the core adds him


def test_hook_check_permission(tmp_path):
    class NoGifts:
        @hookimpl
        def check_permission(self, ledger, actor, action, subject, settings):
            if action == "transfer":
                return [Problem("error", "extra", "from", "gifts are switched off here")]
            return []

    led = ledger_with(tmp_path, NoGifts())
    led.record(exchange())
    with pytest.raises(NotAllowed, match="gifts are switched off here"):
        led.transfer("alice", "bob", 10, actor="coord")


def test_hook_after_entries_recorded(tmp_path):
    seen = []

    class Watcher:
        @hookimpl
        def after_entries_recorded(self, ledger, entries, settings):
            committed = ledger.conn.execute("SELECT count(*) FROM entries").fetchone()[0]
            seen.append(([e.id for e in entries], committed, ledger.conn.in_transaction))

    led = ledger_with(tmp_path, Watcher())
    led.record_many([exchange(), exchange()])
    assert seen == [([1, 2], 2, False)]


def test_hook_register_commands(tmp_path):
    class Hello:
        @hookimpl
        def register_commands(self, cli):
            @cli.command()
            def hello():
                click.echo("hello from a plugin")

    plugins = Plugins(entry_points=False)
    plugins.register(Hello(), "hello")
    group = click.Group()
    plugins.call("register_commands", None, cli=group)
    assert CliRunner().invoke(group, ["hello"]).output == "hello from a plugin\n"


def test_hook_declare_member_accounts(tmp_path):
    class Savings:
        @hookimpl
        def declare_member_accounts(self, member, settings):
            return [Account(sub_account(member.handle, "savings"), "savings", f"{member.name}'s savings")]

    led = ledger_with(tmp_path, Savings())
    assert led.account("alice~savings").member == "alice"
    led.add_member(Member("dora", "Dora", "member", dt.date(2024, 1, 1)), actor="coord")
    assert led.balance("dora~savings") == 0
    led.transfer("alice", "alice~savings", 1, actor="alice", acknowledge=True)
    assert led.balance("alice~savings") == 1


def test_hook_declare_tables(tmp_path):
    class Groups:
        @hookimpl
        def declare_tables(self, settings):
            return ["CREATE TABLE IF NOT EXISTS extra_groups (name TEXT PRIMARY KEY)"]

    led = ledger_with(tmp_path, Groups())
    led.conn.execute("INSERT INTO extra_groups VALUES ('riverside')")
    led.set_rules(led.rules.to_data(), actor="coord")  # stored again: the table is kept
    assert led.conn.execute("SELECT name FROM extra_groups").fetchall() == [("riverside",)]


def test_declare_tables_is_asked_of_a_plugin_the_rules_do_not_enable_with_no_settings(tmp_path):
    """What the docs and ``hookspecs`` say runs for every plugin: ``declare_tables`` is asked
    of a plugin the rules do not enable, with ``settings={}``, when the rules are stored and
    whenever ``plugin_tables`` asks for that plugin (and only then: asking for another
    plugin's tables calls no one else's hook)."""
    asked: list[dict] = []

    class Kept:
        @hookimpl
        def declare_settings(self):
            return [Setting("size", "int", 3, "a setting the tables must not depend on")]

        @hookimpl
        def declare_tables(self, settings):
            asked.append(settings)
            return ["CREATE TABLE IF NOT EXISTS kept_rows (name TEXT PRIMARY KEY)"]

    plugins = Plugins(entry_points=False)
    plugins.register(Kept(), "kept")
    led = build_ledger(tmp_path / "l.sqlite", rules={"plugins": {"classic": {}}}, plugins=plugins)
    assert "kept" not in led.rules.enabled
    assert asked and all(settings == {} for settings in asked)  # when the rules were stored
    for plugin, expected in (("kept", [{}]), ("classic", [])):
        asked.clear()
        led.plugin_tables(plugin)
        assert asked == expected
    led.close()
    for text in (
        (ROOT / "docs" / "plugins.md").read_text().split("## How timebank calls hooks")[1][:900],
        hookspecs.__doc__,
    ):
        assert "`declare_tables`" in text and "empty" in text


def test_hook_entries_for_member_change(tmp_path):
    class Bonus:
        @hookimpl
        def declare_flags(self, settings):
            return ["oriented"]

        @hookimpl
        def entries_for_member_change(self, ledger, member, previous, settings):
            if previous is None or "oriented" not in member.flags or "oriented" in previous.flags:
                return []
            return [
                Draft(
                    "adjustment",
                    dt.date.today(),
                    "system",
                    (Posting("@coop", -120), Posting(member.handle, 120)),
                    note="joining bonus",
                )
            ]

    led = ledger_with(tmp_path, Bonus())
    led.update_member("alice", actor="coord", flags={"oriented"})
    assert led.balance("alice") == 120
    led.update_member("alice", actor="coord", name="Alice A")
    assert led.balance("alice") == 120, "paid once"


def test_hook_close_period(tmp_path):
    class Fee:
        @hookimpl
        def close_period(self, ledger, through, settings):
            return [
                Draft(
                    "adjustment",
                    through,
                    "system",
                    (Posting(m.handle, -10), Posting("@coop", 10)),
                    note="monthly fee",
                )
                for m in ledger.members(include_retired=False)
                if not m.is_coordinator
            ]

    led = ledger_with(tmp_path, Fee())
    end = dt.date(2026, 1, 31)
    entries = led.close_period(end, actor="coord")
    assert len(entries) == 2 and led.balance("@coop") == 20
    with pytest.raises(InputError, match="already closed through 2026-01-31"):
        led.close_period(end, actor="coord")
    with pytest.raises(NotAllowed):
        led.close_period(dt.date(2026, 2, 28), actor="alice")


def test_hook_make_reports(tmp_path):
    class Count:
        @hookimpl
        def make_reports(self, ledger, settings):
            return [Report("members", "Members", ("count",), [(len(ledger.members()),)])]

    led = ledger_with(tmp_path, Count())
    [report] = [r for r in led.reports() if r.name == "members"]
    assert report.rows == ((3,),)


def test_hook_make_reports_gets_the_period(tmp_path):
    class Period:
        @hookimpl
        def make_reports(self, ledger, since, until, settings):
            return [Report("period", "Period", ("since", "until"), [(since, until)])]

    led = ledger_with(tmp_path, Period())
    got = {r.name: r for r in led.reports(since=dt.date(2024, 2, 1), until=dt.date(2024, 3, 1))}
    assert got["period"].rows == ((dt.date(2024, 2, 1), dt.date(2024, 3, 1)),)


def test_hook_member_limits(tmp_path):
    from timebank.limits import Limits

    class Tight:
        @hookimpl
        def member_limits(self, ledger, members, settings):
            return {m.handle: Limits(floor=-60, ceiling=600) for m in members if m.handle == "alice"}

    led = ledger_with(tmp_path, Tight())
    limits = led.member_limits()
    assert limits["alice"] == Limits(floor=-60, ceiling=600, warn_below=-15 * 60)  # tightest of both
    assert limits["bob"] == Limits(floor=-20 * 60, ceiling=200 * 60, warn_below=-15 * 60)  # credit_limits


def test_hook_member_limits_mutual_credit_floor_grows(tmp_path):
    led = build_ledger(
        tmp_path / "m.sqlite",
        rules={"plugins": {"classic": {}, "mutual_credit": {"floor_grows_percent": 50}}},
        members={"alice": "member", "bob": "member"},
    )
    led.record(exchange("alice", "bob", 120, day=dt.date(2024, 1, 2), recorded_by="coord"))
    limits = led.member_limits()
    assert limits["alice"].floor == -10 * 60 - 60  # half of the 2h earned
    assert limits["bob"].floor == -10 * 60


def test_hook_near_limit_within(tmp_path):
    from timebank.limits import NEAR_LIMIT_WITHIN

    class Wide:
        @hookimpl
        def near_limit_within(self, settings):
            return settings["within"]

        @hookimpl
        def declare_settings(self):
            return [Setting("within", "minutes", 5 * 60, "near means this close")]

    led = ledger_with(tmp_path, Wide())
    assert led.near_limit_within() == 5 * 60  # no other enabled plugin answers
    led.change_settings("extra", {"within": "30m"}, actor="coord")
    assert led.near_limit_within() == 30
    plain = build_ledger(tmp_path / "plain.sqlite", rules={"plugins": {"classic": {}}}, coordinator=False)
    assert plain.near_limit_within() == NEAR_LIMIT_WITHIN  # nobody says: two hours
    rules = {"plugins": {"classic": {}, "reports": {"near_limit_within": "3h"}, "extra": {"within": "1h"}}}
    plugins = Plugins(entry_points=False)
    plugins.register(Wide(), "extra")
    reports = build_ledger(tmp_path / "r.sqlite", rules=rules, plugins=plugins, coordinator=False)
    assert reports.near_limit_within() == 3 * 60  # the widest of the answers
    plain.close()
    reports.close()


def test_hook_exchange_fields(tmp_path):
    from timebank import ExchangeField

    class Wards:
        @hookimpl
        def exchange_fields(self, ledger, settings):
            return [
                ExchangeField("ward", "Ward", choices=["north", "south"], required=True),
                ExchangeField("visit", "Visit number", hint="optional"),
            ]

    class Again:
        @hookimpl
        def exchange_fields(self, ledger, settings):
            return [ExchangeField("ward", "Another ward")]

    plugins = Plugins(entry_points=False)
    plugins.register(Again(), "again")  # registered, never enabled: never asked
    led = ledger_with(tmp_path, Wards())
    assert [f.name for f in led.exchange_fields()] == ["ward", "visit"]
    ward, visit = led.exchange_fields()
    assert ward.choices == ("north", "south")
    assert ward.problem("") == "say the ward (north or south)" and ward.problem(" north ") == ""
    assert ward.problem("east") == "'east' is not one of north, south"
    assert visit.problem("") == "" and visit.problem("3") == ""
    plain = build_ledger(
        tmp_path / "plain.sqlite", rules={"plugins": {"classic": {}}}, plugins=plugins, coordinator=False
    )
    assert plain.exchange_fields() == []
    plain.close()


def test_hook_add_demo_records(tmp_path):
    """The demo co-op asks its plugins for their own records through the hook: safeguarding
    records a current check for every giver of personal care, from before their first
    visit, so every such exchange stands; the core never names the plugin."""
    from timebank.demo import build_demo
    from timebank.plugins.safeguarding import checks

    today = dt.date(2026, 11, 27)
    with build_demo(tmp_path / "demo.sqlite", members=12, days=150, today=today, board=False) as led:
        first: dict[str, str] = {}
        for entry in led.entries():
            if entry.kind == "service" and entry.category == "personal care":
                for giver in entry.givers:
                    first[giver] = min(first.get(giver, entry.day.isoformat()), entry.day.isoformat())
        assert first, "the demo gives personal care"
        kept = checks(led)
        assert {row["kind"] for row in kept} == {"DBS"}
        for giver, day in first.items():
            assert any(r["member"] == giver and r["done_on"] <= day <= r["valid_until"] for r in kept)
        assert len({row["member"] for row in kept}) > len(first)  # some who give none have one too
        assert {row["recorded_by"] for row in kept} == {"coordinator"}


async def test_hook_add_tui_screens(tmp_path):
    from textual.screen import Screen
    from textual.widgets import Label

    from timebank.tui.app import TimebankApp

    class Notes(Screen):
        def compose(self):
            yield Label("notes from a plugin", id="notes")

    class P:
        @hookimpl
        def add_tui_screens(self, settings):
            return [("notes", "Notes", Notes)]

    led = ledger_with(tmp_path, P())
    app = TimebankApp(led, actor="coord")
    async with app.run_test() as pilot:
        assert "Notes" in [c.title for c in app.get_system_commands(app.screen)]
        app.switch_mode("notes")
        await pilot.pause()
        assert str(app.screen.query_one("#notes").render()) == "notes from a plugin"


def test_hook_contribute_public_figures(tmp_path):
    import datetime as dt
    import sqlite3

    from timebank import Fact, Figure, Measure
    from timebank.publishing.publish import publish

    class Figures:
        @hookimpl
        def contribute_public_figures(self, ledger, settings, through):
            people = [f"m{i}" for i in range(12)]
            facts = [Fact("2026-01", ("spring fair",), (p,), 4) for p in people[:10]]
            facts += [Fact("2026-01", ("quiet tuesday",), (p,), 1) for p in people[10:]]
            facts += [Fact("2026-03", ("summer fete",), (people[0],), 9)]  # after ``through``
            return [
                Measure("tea", "count", ("event",), facts),
                Figure("cups_of_tea", "Cups of tea", "Tea made at events.", "tea", "cups", by="event"),
            ]

    led = ledger_with(tmp_path, Figures())
    publish(led, tmp_path / "public.sqlite", today=dt.date(2026, 2, 10))
    rows = sqlite3.connect(tmp_path / "public.sqlite").execute("SELECT * FROM cups_of_tea").fetchall()
    # the core computed, rounded and folded the plugin's figure: two people's event is 'other'
    # (and, being small, alone, suppressed); nothing after the publication's last month
    assert ("2026-01", "all", 40, 0) in rows
    assert ("2026-01", "spring fair", 40, 0) not in rows or ("2026-01", "other", None, 1) in rows
    assert not [r for r in rows if r[1] in ("quiet tuesday", "summer fete")]
    assert max(r[0] for r in rows) == "2026-01"


# faulty plugins -----------------------------------------------------------------


def test_a_plugin_that_raises_is_named_and_nothing_is_written(tmp_path):
    class Broken:
        @hookimpl
        def validate_exchanges(self, ledger, exchanges, settings):
            raise ZeroDivisionError("division by zero")

    led = ledger_with(tmp_path, Broken(), name="broken")
    before = snapshot_rows(led)
    with pytest.raises(PluginFailed) as caught:
        led.record(exchange())
    assert caught.value.plugin == "broken"
    assert "plugin 'broken' failed in validate_exchanges: ZeroDivisionError" in str(caught.value)
    assert snapshot_rows(led) == before


@pytest.mark.parametrize(
    "returned, fragment",
    [
        ([[Posting("alice", 5)]], "do not sum to zero"),
        ([[Posting("@nowhere", 5), Posting("alice", -5)]], "unknown account '@nowhere'"),
        ([["alice", 5]], "not a Posting"),
        ([[Posting("alice", 5.0), Posting("bob", -5.0)]], "not a Posting in minutes"),
        ("nonsense", "returned str"),
        ([], "returned list for 1 exchanges"),
    ],
)
def test_a_plugin_returning_nonsense_cannot_write(tmp_path, returned, fragment):
    class Nonsense:
        @hookimpl
        def add_postings(self, ledger, exchanges, postings, settings):
            return returned

    led = ledger_with(tmp_path, Nonsense(), name="nonsense")
    before = snapshot_rows(led)
    with pytest.raises(PluginFailed, match=re.escape(fragment)) as caught:
        led.record(exchange())
    assert caught.value.plugin == "nonsense"
    assert snapshot_rows(led) == before


class WrongProblems:
    @hookimpl
    def validate_exchanges(self, ledger, exchanges, settings):
        return ["not a problem"]


class WrongDraftProblems:
    @hookimpl
    def validate_drafts(self, ledger, drafts, settings):
        return [42]


class WrongIndex:
    @hookimpl
    def validate_exchanges(self, ledger, exchanges, settings):
        return [Problem("error", "wrong", "note", "about an exchange that is not there", 7)]


class WrongDecision:
    @hookimpl(tryfirst=True)
    def decide_recording(self, ledger, exchange, actor, settings):
        return "yes please"


@pytest.mark.parametrize(
    "plugin, fragment",
    [
        (WrongProblems, "not a Problem"),
        (WrongDraftProblems, "not a Problem"),
        (WrongDecision, "not a Decision"),
    ],
)
def test_a_plugin_returning_the_wrong_types_is_named(tmp_path, plugin, fragment):
    led = ledger_with(tmp_path, plugin(), name="wrong")
    before = snapshot_rows(led)
    with pytest.raises(PluginFailed, match=fragment) as caught:
        led.record(exchange(recorded_by="alice" if plugin is WrongDecision else "coord"))
    assert caught.value.plugin == "wrong"
    assert snapshot_rows(led) == before


def test_plugins_folder_is_loaded(tmp_path):
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "tea_levy.py").write_text(
        "from timebank import hookimpl, Posting\n"
        "@hookimpl\n"
        "def add_postings(ledger, exchanges, postings, settings):\n"
        "    return [[Posting(e.givers[0], -1), Posting('@coop', 1)] for e in exchanges]\n"
    )
    plugins = Plugins(entry_points=False, plugins_dir=folder)
    assert "tea_levy" in plugins.names()
    led = build_ledger(
        tmp_path / "l.sqlite",
        plugins=plugins,
        rules={"plugins": {"classic": {}, "tea_levy": {}}},
        coordinator=False,
    )
    for handle in ("alice", "bob"):
        led.add_member(Member(handle, handle, "member", dt.date(2024, 1, 1)), actor=SYSTEM)
    led.record_many([exchange(recorded_by="alice")])
    assert led.balance("@coop") == 1


def test_a_disabled_plugin_takes_no_part(tmp_path):
    class Levy:
        @hookimpl
        def add_postings(self, ledger, exchanges, postings, settings):
            return [[Posting("alice", -1), Posting("@coop", 1)] for _ in exchanges]

    led = ledger_with(tmp_path, Levy())
    data = led.rules.to_data()
    del data["plugins"]["extra"]
    led.set_rules(data, actor="coord")
    led.record(exchange())
    assert led.balance("@coop") == 0


def test_unknown_plugin_in_rules_is_named(tmp_path):
    with pytest.raises(Exception, match="no plugin named 'levies' is installed"):
        Ledger.create(tmp_path / "l.sqlite", rules={"plugins": {"levies": {}}})
    assert not (tmp_path / "l.sqlite").exists()


def test_hook_after_entries_recorded_sees_every_imported_entry(tmp_path):
    """An import keeps Entry records only when an after-hook listens; then it sees them all."""
    from timebank.interchange import csvio

    seen = []

    class Watcher:
        @hookimpl
        def after_entries_recorded(self, ledger, entries, settings):
            seen.extend(entries)

    led = ledger_with(tmp_path, Watcher())
    rows = [
        {"date": "2026-01-05", "giver": "alice", "receiver": "bob", "duration": "1h", "category": "shopping"},
        {
            "date": "2026-01-06",
            "giver": "bob",
            "receiver": "alice",
            "duration": "30m",
            "category": "shopping",
        },
    ]
    path = tmp_path / "exchanges.csv"
    path.write_text(csvio.exchanges_csv(rows))
    assert csvio.import_exchanges(led, path, actor="coord") == 2
    assert [(e.id, e.givers, e.minutes) for e in seen] == [(1, ("alice",), 60), (2, ("bob",), 30)]
    assert (
        seen[1].prev_hash
        == seen[0].hash
        == led.conn.execute("SELECT hash FROM entries WHERE id = 1").fetchone()[0]
    )


def test_hook_declare_flags(tmp_path):
    class Flags:
        @hookimpl
        def declare_flags(self, settings):
            return ["housebound"]

    led = ledger_with(tmp_path, Flags())
    assert "housebound" in led.flags()
    led.update_member("alice", actor="coord", flags={"housebound"})
    assert led.member("alice").flags == {"housebound"}
    with pytest.raises(InputError, match=r"'orientated' is not a flag here \(flags: housebound\)"):
        led.update_member("bob", actor="coord", flags={"orientated"})
    assert led.member("bob").flags == frozenset()


def test_hook_validate_listing(tmp_path):
    from timebank.listings import Listings

    class NoNightOffers:
        @hookimpl
        def validate_listing(self, ledger, listing, settings):
            if "night" in listing.availability:
                return [Problem("error", "extra", "when", f"{listing.member} may not offer night visits")]
            return []

    led = ledger_with(tmp_path, NoNightOffers())
    kind = led.categories()[0]
    before = snapshot_rows(led)
    with pytest.raises(RulesRefused, match="alice may not offer night visits"):
        Listings(led).post("offer", actor="alice", category=kind, title="Sitting", availability="nights")
    assert snapshot_rows(led) == before
    assert Listings(led).post("offer", actor="alice", category=kind, title="Sitting").id == 1


def test_hook_refuse_matches(tmp_path):
    from timebank.listings import Listings

    class NotBob:
        @hookimpl
        def refuse_matches(self, ledger, listing, matches, settings):
            return [
                Problem("error", "extra", "member", "bob is on leave", i)
                for i, m in enumerate(matches)
                if m.member == "bob"
            ]

    led = ledger_with(tmp_path, NotBob())
    led.add_member(Member("cat", "Cat", "member", dt.date(2024, 1, 1)), actor="coord")
    board, kind = Listings(led), led.categories()[0]
    request = board.post("request", actor="alice", category=kind, title="Help")
    board.post("offer", actor="bob", category=kind, title="Bob helps")
    board.post("offer", actor="cat", category=kind, title="Cat helps")
    assert [m.member for m in board.match(request.id)] == ["cat"]
    board.answer(request.id, actor="cat")
    with pytest.raises(RulesRefused, match="bob is on leave"):
        board.answer(request.id, actor="bob")


def test_hook_rank_matches(tmp_path):
    from timebank.listings import Listings

    class Alphabetical:
        @hookimpl
        def rank_matches(self, ledger, listing, matches, settings):
            return sorted(matches, key=lambda m: m.member)

    class Nonsense:
        @hookimpl
        def rank_matches(self, ledger, listing, matches, settings):
            return matches[:1]

    for plugin, expected in ((Alphabetical(), ["bob", "cat"]), (Nonsense(), None)):
        folder = tmp_path / type(plugin).__name__
        folder.mkdir()
        led = ledger_with(folder, plugin)
        led.add_member(Member("cat", "Cat", "member", dt.date(2024, 1, 1)), actor="coord")
        board, kind = Listings(led), led.categories()[0]
        request = board.post("request", actor="alice", category=kind, title="Help")
        board.post("offer", actor="bob", category=kind, title="Bob helps")
        board.post("offer", actor="cat", category=kind, title="Cat helps")  # newest: first by default
        if expected is None:
            with pytest.raises(PluginFailed, match="extra.*rank_matches.*same matches"):
                board.match(request.id)
        else:
            assert [m.member for m in board.match(request.id)] == expected
        led.close()


# every hook's results are checked against its type, in one place ------------------


def _plugin_returning(hook: str, value: object) -> types.ModuleType:
    """A plugin implementing only ``hook``, with the spec's own arguments, returning ``value``."""
    params = ", ".join(inspect.signature(getattr(hookspecs, hook)).parameters)
    namespace: dict = {"value": value}
    exec(f"def {hook}({params}):\n    return value\n", namespace)
    module = types.ModuleType(f"returns_{hook}")
    setattr(module, hook, hookimpl(namespace[hook]))
    return module


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_declared_result_type(hook):
    assert hook in _result_checks(), f"timebank.plugin_manager does not say what {hook} returns"


@pytest.mark.parametrize("hook", [h for h in HOOKS if _result_checks()[h] is not None])
@pytest.mark.parametrize("value", ["shopping", 42, [object()], {"a": 1}])
def test_a_hook_result_of_the_wrong_type_names_the_plugin_and_hook(hook, value):
    if hook in ("make_postings", "add_postings") and value == [object()]:
        value = [7]
    if hook == "near_limit_within" and value == 42:
        value = 4.2  # minutes are whole numbers
    plugins = Plugins(entry_points=False)
    plugins.register(_plugin_returning(hook, value), "careless")
    args = {name: None for name in inspect.signature(getattr(hookspecs, hook)).parameters}
    call = dict(plugins.callers(hook, None))["careless"]  # the built-ins would choke on None
    with pytest.raises(PluginFailed) as caught:
        call(**args)
    assert caught.value.plugin == "careless" and caught.value.hook == hook
    assert str(caught.value).startswith(f"plugin 'careless' failed in {hook}: returned ")
    assert str(caught.value).count("returned") == 1  # named once, by the one check


def test_a_string_of_categories_is_refused_not_split_into_letters(tmp_path):
    class Careless:
        @hookimpl
        def declare_categories(self, settings):
            return "gardening"

    plugins = Plugins(entry_points=False)
    plugins.register(Careless(), "careless")
    with pytest.raises(  # refused when the rules enabling it are checked, before any use
        PluginFailed,
        match="'careless' failed in declare_categories: returned str 'gardening', not a list",
    ):
        Ledger.create(tmp_path / "l.sqlite", {"plugins": {"classic": {}, "careless": {}}}, plugins=plugins)
    assert not (tmp_path / "l.sqlite").exists()


# pluggy's call semantics: firstresult honoured, wrappers refused ------------------

WRAPPER_SOURCE = (
    "from timebank import hookimpl\n"
    "@hookimpl(wrapper=True)\n"
    "def validate_exchanges(ledger, exchanges, settings):\n"
    "    return (yield)\n"
)


class Wrapper:
    @hookimpl(wrapper=True)
    def validate_exchanges(self, ledger, exchanges, settings):
        return (yield)


class HookWrapper:
    @hookimpl
    def declare_categories(self, settings):
        return ["gardening"]

    @hookimpl(hookwrapper=True)
    def validate_drafts(self, ledger, drafts, settings):
        yield


@pytest.mark.parametrize(
    "plugin, hook, kind",
    [(Wrapper, "validate_exchanges", "wrapper"), (HookWrapper, "validate_drafts", "hookwrapper")],
)
def test_a_wrapper_plugin_is_refused_at_registration_naming_plugin_and_hook(tmp_path, plugin, hook, kind):
    """Not accepted and later called as an ordinary implementation ("returned None, not a Problem")."""
    plugins = Plugins(entry_points=False)
    with pytest.raises(PluginRefused) as caught:
        plugins.register(plugin(), "wrapping")
    assert str(caught.value).startswith(
        f"plugin 'wrapping' is refused: its {hook} hook is marked {kind}=True"
    )
    assert caught.value.plugin == "wrapping"
    assert "wrapping" not in plugins.names()
    # nothing of it stays registered: neither the wrapper nor its ordinary hooks
    for name in (hook, "declare_categories"):
        assert "wrapping" not in [n for n, _ in plugins.callers(name, None)]


def test_a_wrapper_in_the_plugins_folder_is_left_out_and_named(tmp_path):
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "a_wrapping.py").write_text(WRAPPER_SOURCE)
    (folder / "b_fine.py").write_text("from timebank import hookimpl\n")
    plugins = Plugins(entry_points=False, plugins_dir=folder)
    assert "a_wrapping" not in plugins.names() and "b_fine" in plugins.names()
    assert plugins.failed["a_wrapping"].startswith(
        "plugin 'a_wrapping' is refused: its validate_exchanges hook is marked wrapper=True"
    )


def test_a_wrapper_installed_as_an_entry_point_is_left_out_and_the_rest_load(tmp_path, monkeypatch):
    site = tmp_path / "site"
    (site / "demo_plugins-0.1.dist-info").mkdir(parents=True)
    (site / "demo_plugins-0.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: demo-plugins\nVersion: 0.1\n"
    )
    (site / "demo_plugins-0.1.dist-info" / "entry_points.txt").write_text(
        "[timebank]\nwrapping = demo_wrapping\nfine = demo_fine\n"
    )
    (site / "demo_wrapping.py").write_text(WRAPPER_SOURCE)
    (site / "demo_fine.py").write_text("from timebank import hookimpl\n")
    monkeypatch.syspath_prepend(str(site))
    plugins = Plugins()
    assert "fine" in plugins.names() and "wrapping" not in plugins.names()
    assert "plugin 'wrapping' is refused" in plugins.failed["wrapping"]
    assert "wrapping" not in [row["name"] for row in plugins.describe()]


def test_a_wrapper_in_the_plugins_folder_is_named_by_the_cli(tmp_path):
    import os
    import subprocess
    import sys

    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "wrapping.py").write_text(WRAPPER_SOURCE)
    env = {**os.environ, "TIMEBANK_PLUGINS_DIR": str(folder), "TIMEBANK_LEDGER": str(tmp_path / "l.sqlite")}
    out = subprocess.run(
        [sys.executable, "-m", "timebank", "init"], capture_output=True, text=True, env=env, check=False
    )
    assert out.returncode == 0, out.stderr
    assert (
        "warning: plugin 'wrapping' is refused: its validate_exchanges hook is marked wrapper=True"
        in out.stderr
    )


class Answers:
    def __init__(self, answer, calls):
        self.answer, self.calls = answer, calls

    @hookimpl(tryfirst=True)
    def decide_recording(self, ledger, exchange, actor, settings):
        self.calls.append(self.answer)
        return self.answer


def test_a_firstresult_hook_stops_at_the_first_answer():
    """``decide_recording`` is declared firstresult: once a plugin answers, no later plugin
    is called (the built-ins after these would fail on the None arguments)."""
    calls: list = []
    plugins = Plugins(entry_points=False)
    refusal = Problem("error", "no", "actor", "not you")
    for name, answer in (("later", Decision()), ("decides", refusal), ("passes", None)):
        plugins.register(Answers(answer, calls), name)  # called last registered first
    found = plugins.call("decide_recording", None, ledger=None, exchange=None, actor=None)
    assert found == [("decides", refusal)]
    assert calls == [None, refusal]  # "later" was never called
    assert plugins.first("decide_recording", None, ledger=None, exchange=None, actor=None) == found[0]


def test_every_answer_counts_where_the_hook_is_not_firstresult():
    plugins = Plugins(entry_points=False)
    assert [h for h in HOOKS if plugins.firstresult(h)] == [
        "decide_recording",
        "make_postings",
        "rank_matches",
    ]
    with pytest.raises(ValueError, match="validate_exchanges is not a firstresult hook"):
        plugins.first("validate_exchanges", None, ledger=None, exchanges=[])


def test_a_result_type_is_checked_in_one_place_and_named_once(tmp_path):
    """The manager checks every result against its hook's type; no caller repeats the check,
    so a wrong result is named once, by the manager's sentence."""
    led = ledger_with(tmp_path, WrongDecision(), name="wrong")
    with pytest.raises(PluginFailed) as caught:
        led.record(exchange(recorded_by="alice"))
    message = str(caught.value)
    assert message == (
        "plugin 'wrong' failed in decide_recording: returned str 'yes please', not a Decision or a "
        "Problem; nothing was written"
    )
    repeats = []
    for path in (ROOT / "timebank").rglob("*.py"):
        if path.name == "plugin_manager.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"PluginFailed\(.*\bnot an? [A-Z]", line):
                repeats.append(f"{path.relative_to(ROOT)}:{number}")
    assert not repeats, f"result types are checked again outside plugin_manager: {repeats}"


def test_the_hook_markers_have_one_home_with_no_import_cycle():
    """``hookspecs`` defines both markers and imports nothing of timebank's; the package
    re-exports ``hookimpl`` for plugins. So it loads on its own, first."""
    import subprocess
    import sys

    import timebank

    assert timebank.hookimpl is hookspecs.hookimpl and timebank.hookspec is hookspecs.hookspec
    defined = [
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "timebank").rglob("*.py")
        if re.search(r"Hook(spec|impl)Marker\(", path.read_text())
    ]
    assert defined == ["timebank/hookspecs.py"]
    code = (
        "import importlib.util, sys\n"
        "spec = importlib.util.spec_from_file_location('specs_alone', sys.argv[1])\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "print(sorted(m for m in sys.modules if m.startswith('timebank')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "timebank" / "hookspecs.py")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "[]"
