"""Files are private to their owner (or the co-op's group); who may do what holds everywhere."""

import grp
import os
import stat

from click.testing import CliRunner
from timebank.tui.app import make_app

from timebank.cli import cli
from timebank.ledger import Ledger
from timebank.testing import exchange


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_ledger_anchors_and_published_files_are_owner_only(roomy):
    roomy.record(exchange("alice", "bob", 30))
    assert mode(roomy.path) == 0o600
    assert mode(roomy.path.with_name(roomy.path.name + ".anchors")) == 0o600


def test_a_coop_group_may_share_the_ledger_and_its_backups(tmp_path):
    group = grp.getgrgid(os.getgid()).gr_name
    path = tmp_path / "shared.sqlite"
    result = CliRunner().invoke(cli, ["init", "--ledger", str(path), "--group", group])
    assert result.exit_code == 0, result.stderr
    assert mode(path) == 0o660 and path.stat().st_gid == os.getgid()
    result = CliRunner().invoke(
        cli, ["backup", str(tmp_path / "b.sqlite"), "--group", group, "--ledger", str(path)]
    )
    assert result.exit_code == 0 and mode(tmp_path / "b.sqlite") == 0o660
    result = CliRunner().invoke(
        cli, ["init", "--ledger", str(tmp_path / "x.sqlite"), "--group", "no-such-group-x"]
    )
    assert result.exit_code == 1 and "there is no group called 'no-such-group-x'" in result.stderr
    assert not (tmp_path / "x.sqlite").exists()


def test_a_member_cannot_record_for_others_in_the_cli(roomy):
    result = CliRunner().invoke(
        cli, ["log", "bob", "carol", "1h", "-k", "shopping", "--as", "alice", "--ledger", str(roomy.path)]
    )
    assert result.exit_code == 1
    assert result.stderr == "error: Alice can only record exchanges they took part in\n"
    assert roomy.conn.execute("SELECT count(*) FROM entries").fetchone()[0] == 0
    assert roomy.claims() == []


async def test_a_member_cannot_record_for_others_in_the_tui(roomy):
    app = make_app(roomy.path, actor="alice")
    async with app.run_test(size=(100, 34)) as pilot:
        screen = app.screen
        screen.query_one("#giver").value = "bob"
        screen.query_one("#receiver").value = "carol"
        screen.query_one("#duration").value = "1h"
        await pilot.pause()
        screen.action_save()
        await pilot.pause()
        assert "can only record exchanges they took part in" in str(screen.query_one("#giver-error").render())
    with Ledger(roomy.path) as ledger:
        assert (
            ledger.conn.execute("SELECT count(*) FROM entries").fetchone()[0] == 0 and ledger.claims() == []
        )
