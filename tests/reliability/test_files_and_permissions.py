"""Files are private to their owner (or the co-op's group); who may do what holds everywhere."""

import grp
import os
import stat

from click.testing import CliRunner

from timebank.cli.main import cli
from timebank.ledger import Ledger
from timebank.testing import exchange
from timebank.tui.app import make_app


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
    for handle in ("alice", "bob"):
        assert (
            CliRunner()
            .invoke(cli, ["member", "add", handle, handle, "--as", "coordinator", "--ledger", str(path)])
            .exit_code
            == 0
        )
    result = CliRunner().invoke(
        cli, ["log", "alice", "bob", "1h", "-k", "shopping", "--as", "coordinator", "--ledger", str(path)]
    )
    assert result.exit_code == 0, result.stderr
    assert mode(path.with_name(path.name + ".anchors")) == 0o660, "the group may append anchors too"
    result = CliRunner().invoke(
        cli, ["backup", str(tmp_path / "b.sqlite"), "--group", group, "--ledger", str(path)]
    )
    assert result.exit_code == 0 and mode(tmp_path / "b.sqlite") == 0o660
    result = CliRunner().invoke(
        cli, ["restore", str(tmp_path / "b.sqlite"), "--ledger", str(path), "--allow-fewer"]
    )
    assert result.exit_code == 0, result.stderr
    assert mode(path) == 0o660 and mode(path.with_name(path.name + ".anchors")) == 0o660, "still shared"
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


# One ledger, one set of anchors; replacing a ledger never loses it ------------------------------

import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

from timebank.storage.anchors import read_anchor_file  # noqa: E402


def anchors_of(path):
    return path.with_name(path.name + ".anchors")


def hold_open(path):
    """Another process with the ledger open, as the TUI would be, until its stdin closes."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import sys; from timebank.ledger import Ledger; l = Ledger({str(path)!r}); "
            "print('open', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline() == "open\n"
    return holder


def test_demo_force_refuses_while_the_ledger_is_open_and_keeps_the_old_one_aside(tmp_path):
    path = tmp_path / "demo.sqlite"
    assert CliRunner().invoke(cli, ["demo", "--ledger", str(path), "--members", "5"]).exit_code == 0
    with Ledger(path) as ledger:
        giver, receiver = [m.handle for m in ledger.members() if m.is_active and m.role == "member"][:2]
        ledger.record(
            exchange(giver, receiver, 30, category=ledger.categories()[0], recorded_by="coordinator"),
            acknowledge=True,
        )
        entries = ledger.last_entry_id()
    before = path.read_bytes()
    holder = hold_open(path)
    try:
        result = CliRunner().invoke(cli, ["demo", "--ledger", str(path), "--members", "5", "--force"])
        assert result.exit_code == 1 and "is open in another process" in result.stderr
        assert path.read_bytes() == before
    finally:
        holder.communicate("")
    result = CliRunner().invoke(cli, ["demo", "--ledger", str(path), "--members", "5", "--force"])
    assert result.exit_code == 0, result.stderr
    (aside,) = tmp_path.glob("demo.sqlite.replaced-*[0-9]")
    assert f"kept at {aside}" in result.output
    with Ledger(aside) as old:
        assert old.last_entry_id() == entries and old.verify().ok, "the old ledger, with its anchors"
    with Ledger(path) as new:
        assert new.verify().ok
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_ledger_reached_through_a_symlink_has_one_anchors_file(roomy, tmp_path):
    link = tmp_path / "link.sqlite"
    link.symlink_to(roomy.path)
    roomy.record(exchange("alice", "bob", 30))
    with Ledger(link) as through_link:
        through_link.record(exchange("carol", "dan", 30))
        assert through_link.verify().ok
    assert not anchors_of(link).exists()
    assert set(read_anchor_file(anchors_of(roomy.path)).hashes) == {1, 2}


def test_anchors_carry_the_ledger_id_and_verify_refuses_another_ledgers(roomy, tmp_path, make_ledger):
    roomy.record(exchange("alice", "bob", 30))
    own_id = roomy.conn.execute("SELECT value FROM meta WHERE key = 'ledger_id'").fetchone()[0]
    assert len(own_id) == 32 and read_anchor_file(anchors_of(roomy.path)).ledger_id == own_id
    other = make_ledger("time-bank", members={"zed": "member"}, name="other.sqlite")
    assert other.conn.execute("SELECT value FROM meta WHERE key = 'ledger_id'").fetchone()[0] != own_id
    shutil.copyfile(anchors_of(roomy.path), anchors_of(other.path))  # another ledger's anchors
    report = other.verify()
    assert not report.ok and "belong to another ledger" in report.problem
    assert (
        "belong to another ledger" in CliRunner().invoke(cli, ["verify", "--ledger", str(other.path)]).stderr
    )


def test_a_ledger_replaced_while_open_does_not_append_to_the_new_ones_anchors(roomy, tmp_path, make_ledger):
    """The old 'demo --force' case: a process still writing to a replaced ledger."""
    roomy.record(exchange("alice", "bob", 30))
    other = make_ledger("time-bank", members={"alice": "member", "bob": "member"}, name="other.sqlite")
    other.record(exchange("alice", "bob", 45))
    other.close()
    for suffix in ("", "-wal", "-shm", ".anchors"):  # moved aside as a whole, while still open
        tmp_path.joinpath(roomy.path.name + suffix).rename(tmp_path / f"moved.sqlite{suffix}")
    shutil.copyfile(other.path, roomy.path)
    shutil.copyfile(anchors_of(other.path), anchors_of(roomy.path))
    before = anchors_of(roomy.path).read_bytes()
    roomy.record(exchange("alice", "bob", 15))  # saved in the moved file, so only a warning
    [warning] = roomy.warnings
    assert "belongs to another ledger" in warning and "do not record it again" in warning
    assert anchors_of(roomy.path).read_bytes() == before
    with Ledger(roomy.path) as now_there:
        assert now_there.verify().ok


def test_a_ledger_without_an_id_keeps_its_anchors_without_one(roomy):
    """Ledgers and anchors from before ids: trusted for the ledger beside them, as before."""
    roomy.record(exchange("alice", "bob", 30))
    roomy.conn.execute("DELETE FROM meta WHERE key = 'ledger_id'")
    lines = anchors_of(roomy.path).read_text().splitlines()
    anchors_of(roomy.path).write_text("".join(f"{line}\n" for line in lines if not line.startswith("#")))
    roomy.record(exchange("alice", "bob", 20))
    assert roomy.verify().ok
    assert read_anchor_file(anchors_of(roomy.path)).ledger_id is None
    assert set(read_anchor_file(anchors_of(roomy.path)).hashes) == {1, 2}


def test_init_and_demo_refuse_a_name_taken_by_a_symlink(tmp_path):
    link = tmp_path / "ledger.sqlite"
    link.symlink_to(tmp_path / "missing" / "elsewhere.sqlite")
    for args in (["init"], ["demo", "--members", "3"]):
        result = CliRunner().invoke(cli, [*args, "--ledger", str(link)])
        assert result.exit_code == 1 and "already exists" in result.stderr, result.output
    assert link.is_symlink() and not (tmp_path / "missing").exists()


def test_init_makes_the_folder_of_a_first_ledger_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("TIMEBANK_LEDGER", raising=False)
    assert CliRunner().invoke(cli, ["init"]).exit_code == 0
    assert sorted(p.name for p in (tmp_path / "data" / "timebank").iterdir()) == ["ledger.sqlite"]
    with Ledger(tmp_path / "data" / "timebank" / "ledger.sqlite") as ledger:
        assert ledger.members()[0].handle == "coordinator"


def test_asking_whether_the_ledger_is_open_does_not_drop_this_process_locks(roomy):
    """Closing a descriptor of the -shm drops every POSIX lock of the process that closes it."""
    from timebank.storage.outputs import ledger_in_use

    roomy.record(exchange("alice", "bob", 30))
    assert ledger_in_use(roomy.path), "this process's own connection counts"
    probe = (
        "import sys; from timebank.storage.outputs import ledger_in_use; "
        "sys.exit(0 if ledger_in_use(sys.argv[1]) else 3)"
    )
    assert subprocess.run([sys.executable, "-c", probe, str(roomy.path)]).returncode == 0, (
        "the lock is still held"
    )
    roomy.close()
    assert not ledger_in_use(roomy.path)


def test_init_and_demo_where_a_deleted_ledger_left_its_anchors(tmp_path):
    for args in (["init"], ["demo", "--members", "3"]):
        path = tmp_path / f"{args[0]}.sqlite"
        anchors_of(path).write_text("# timebank anchors ledger=" + "ab" * 16 + "\n7 " + "0" * 64 + "\n")
        result = CliRunner().invoke(cli, [*args, "--ledger", str(path)])
        assert result.exit_code == 0, result.output
        assert list(tmp_path.glob(f"{path.name}.anchors.orphaned-*")), "the old anchors are kept aside"
        assert CliRunner().invoke(cli, ["verify", "--ledger", str(path)]).exit_code == 0


def test_paths_with_question_marks_and_hashes_are_files_not_uri_queries(tmp_path):
    """``f"file:{path}?mode=ro"`` took ``?`` and ``#`` in a folder's name as the start of the
    query: a backup, a restore or a publication of such a path read another file or failed."""
    from click.testing import CliRunner

    from timebank.cli.main import cli

    folder = tmp_path / "co-op? #1 100%"
    folder.mkdir()
    ledger, copy = folder / "ledger.sqlite", folder / "copy?.sqlite"

    def run(*args):
        result = CliRunner().invoke(cli, [*map(str, args), "--ledger", str(ledger)])
        assert result.exit_code == 0, result.output + result.stderr
        return result.output

    run("init", "--coordinator", "cora")
    run("member", "add", "alice", "Alice", "--joined", "2024-01-01", "--as", "cora")
    run("member", "add", "bob", "Bob", "--joined", "2024-01-01", "--as", "cora")
    run("log", "alice", "bob", "1h", "-k", "shopping", "--as", "cora")
    run("backup", copy)
    run("log", "bob", "alice", "1h", "-k", "shopping", "--as", "cora")
    assert "2 entries" in run("verify")
    refused = CliRunner().invoke(cli, ["restore", str(copy), "--ledger", str(ledger)])
    assert refused.exit_code == 1 and "fewer" in refused.stderr, refused.stderr  # the live one was read
    run("restore", copy, "--allow-fewer")
    assert "1 entries" in run("verify") or "1 entry" in run("verify")
    public = folder / "public#.sqlite"
    run("publish", "--out", public, "--metadata", folder / "meta?.json")
    # the second reads what the public has (that file, not one called "public")
    assert "no new months" in run("publish", "--out", public)
    first = public.read_bytes()
    backup_over = CliRunner().invoke(cli, ["backup", str(public), "--ledger", str(ledger)])
    assert backup_over.exit_code == 1 and public.read_bytes() == first
