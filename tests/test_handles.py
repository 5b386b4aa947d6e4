"""One rule for the members a field names: a CSV file, the command line and the TUI."""

import pytest
from click.testing import CliRunner

from timebank.errors import InputError
from timebank.interchange import csvio
from timebank.units import split_handles


@pytest.mark.parametrize(
    "text, handles",
    [
        ("alice", ("alice",)),
        ("alice,bob", ("alice", "bob")),  # the command line and the TUI took commas
        ("alice;bob", ("alice", "bob")),  # a CSV file and the command line took semicolons
        ("alice bob", ("alice", "bob")),  # a CSV file took spaces
        (" alice ; bob,, carol ", ("alice", "bob", "carol")),
        ("a.b-c_d", ("a.b-c_d",)),
    ],
)
def test_one_separator_rule(text, handles):
    assert split_handles(text, "giver") == handles


@pytest.mark.parametrize(
    "text, pieces",
    [("Alice Ames, bob", ("Alice Ames", "bob")), ("ames;bob", ("ames", "bob")), ("alice", ("alice",))],
)
def test_names_keep_their_spaces(text, pieces):
    assert split_handles(text, "giver", names=True) == pieces


@pytest.mark.parametrize("text", ["", " ", ";", ", ;", "\t"])
@pytest.mark.parametrize("names", [False, True])
def test_naming_nobody_is_one_sentence(text, names):
    with pytest.raises(InputError, match=r"^receiver: name at least one member$"):
        split_handles(text, "receiver", names=names)


@pytest.mark.parametrize("giver", ["alice;bob", "alice bob", "alice, bob"])
def test_a_csv_file_names_a_group_by_the_rule(ledger, tmp_path, giver):
    path = tmp_path / "in.csv"
    path.write_text(f'date,giver,receiver,duration,category\n2026-01-05,"{giver}",carol,1h,shopping\n')
    assert csvio.import_exchanges(ledger, path, actor="coord") == 1
    assert (ledger.balance("alice"), ledger.balance("bob"), ledger.balance("carol")) == (60, 60, -120)


@pytest.mark.parametrize("givers", ["alice,bob", "alice; bob", "alice bob"])
def test_the_command_line_names_a_group_by_the_rule(tmp_path, monkeypatch, givers):
    from timebank.cli.main import cli

    monkeypatch.setenv("TIMEBANK_LEDGER", str(tmp_path / "coop.sqlite"))
    runner = CliRunner()
    for args in (
        ["init"],
        *(["member", "add", h, h.title(), "--as", "coordinator"] for h in ("alice", "bob", "carol")),
    ):
        assert runner.invoke(cli, args).exit_code == 0, args
    out = runner.invoke(cli, ["log", givers, "carol", "1h", "-k", "shopping", "--as", "coordinator"])
    assert out.exit_code == 0, out.output
    assert out.output == "entry #1 saved: alice +1h, bob +1h, carol -2h\n"


def test_the_tui_names_members_by_the_rule_and_by_name(ledger):
    from timebank.tui.widgets.member_input import resolve_handles

    ledger.update_member("alice", actor="coord", name="Alice Ames")
    assert resolve_handles(ledger, "Alice Ames, bob", "giver") == ("alice", "bob")
    assert resolve_handles(ledger, "ames;carol", "giver") == ("alice", "carol")
    with pytest.raises(InputError, match="^giver: name at least one member$"):
        resolve_handles(ledger, " , ", "giver")


async def test_the_tui_suggests_and_matches_after_either_separator(ledger):
    from timebank.tui.widgets.member_input import MemberSuggester, matches_text

    ledger.update_member("alice", actor="coord", name="Alice Ames")
    suggester = MemberSuggester(ledger)
    for typed, suggested in (
        ("carol,al", "carol,alice"),
        ("carol, al", "carol,alice"),
        ("carol;al", "carol;alice"),
    ):
        assert await suggester.get_suggestion(typed) == suggested
        assert matches_text(ledger, typed).startswith("alice Alice Ames")
    assert await suggester.get_suggestion("carol;") is None


# flags: one splitter for a CSV file and the TUI's member form ------------------


@pytest.mark.parametrize(
    "text, flags",
    [
        ("", frozenset()),
        ("supported", {"supported"}),
        ("oriented,supported", {"oriented", "supported"}),
        ("oriented;supported", {"oriented", "supported"}),  # the TUI took only commas
        (" oriented ; supported,, ", {"oriented", "supported"}),
    ],
)
def test_one_flag_separator_rule(text, flags):
    from timebank.units import split_flags

    assert split_flags(text) == flags


async def test_the_tui_member_form_takes_flags_after_either_separator():
    from textual.app import App
    from textual.widgets import Input

    from timebank.tui.screens.modals import MemberFormModal

    submitted: list[dict] = []

    class Form(App):
        def on_mount(self) -> None:
            self.push_screen(MemberFormModal(["member"], submitted.append))

    app = Form()
    async with app.run_test() as pilot:
        await pilot.pause()
        app.screen.query_one("#handle", Input).value = "eve"
        app.screen.query_one("#name", Input).value = "Eve Evans"
        app.screen.query_one("#flags", Input).value = "oriented; supported"
        await pilot.click("#save")
        await pilot.pause()
    assert [values["flags"] for values in submitted] == [{"oriented", "supported"}]


def test_a_csv_file_of_members_takes_flags_after_either_separator(make_ledger, tmp_path):
    ledger = make_ledger()  # the time-bank template declares both flags
    path = tmp_path / "members.csv"
    path.write_text(
        "handle,name,member_class,joined,flags\n"
        "eve,Eve Evans,member,2026-01-05,oriented;supported\n"
        'fay,Fay Fox,member,2026-01-05,"oriented, supported"\n'
    )
    assert csvio.import_members(ledger, path, actor="coord") == 2
    assert ledger.member("eve").flags == ledger.member("fay").flags == {"oriented", "supported"}
