"""``timebank access`` and ``timebank shell`` without sshd: the lines written, what is refused.

The same commands are driven through Debian's real sshd in tests/test_ssh_access.py.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner
from helpers import cli_on

from timebank.access import BEGIN, END
from timebank.cli.main import cli


@pytest.fixture
def coop(tmp_path, monkeypatch):
    invoke = cli_on(tmp_path / "coop.sqlite", monkeypatch)

    invoke("init", "--name", "Valley Care")
    for handle in ("alice", "bob"):
        invoke("member", "add", handle, handle.title(), "--as", "coordinator")
    invoke.keys = {}
    for handle in ("alice", "bob"):
        key = tmp_path / handle
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", handle, "-f", key], check=True)
        invoke.keys[handle] = tmp_path / f"{handle}.pub"
    invoke.authorized = tmp_path / "home" / ".ssh" / "authorized_keys"
    invoke.ledger = tmp_path / "coop.sqlite"
    return invoke


def test_add_key_writes_a_forced_line_and_keeps_the_owners_own_lines(coop, tmp_path):
    coop.authorized.parent.mkdir(parents=True)
    coop.authorized.write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOwnerOwnKey owner@laptop\n")
    program = tmp_path / "bin" / "timebank"
    out = coop("access", "add-key", "alice", coop.keys["alice"], "--authorized-keys", coop.authorized,
               "--program", program, "--as", "coordinator").output  # fmt: skip
    assert out.startswith("key #1 SHA256:") and out.endswith(" added for alice\n")
    lines = coop.authorized.read_text().splitlines()
    assert lines[0] == "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOwnerOwnKey owner@laptop"
    assert lines[1] == BEGIN and lines[-1] == END
    key = coop.keys["alice"].read_text().strip()
    assert lines[2] == (f'command="{program} shell --member alice --ledger {coop.ledger}",restrict,pty {key}')
    assert oct(coop.authorized.stat().st_mode & 0o777) == "0o600"
    fingerprint = subprocess.run(["ssh-keygen", "-lf", coop.keys["alice"]], capture_output=True, text=True)
    listed = coop("access", "list", "--as", "coordinator").output
    assert fingerprint.stdout.split()[1] in listed and "by coordinator" in listed
    refused = coop("access", "add-key", "bob", coop.keys["alice"], "--authorized-keys", coop.authorized,
                   "--as", "coordinator", ok=False)  # fmt: skip
    assert "is already alice's" in refused.stderr
    coop(
        "access",
        "revoke",
        "1",
        "--authorized-keys",
        coop.authorized,
        "--program",
        program,
        "--as",
        "coordinator",
    )
    assert "alice" not in coop.authorized.read_text()
    assert "owner@laptop" in coop.authorized.read_text()


def test_a_member_cannot_manage_keys_and_bad_keys_are_refused(coop, tmp_path):
    args = ("--authorized-keys", coop.authorized)
    refused = coop("access", "add-key", "alice", coop.keys["alice"], *args, "--as", "alice", ok=False)
    assert "only a co-ordinator" in refused.stderr
    assert not coop.authorized.exists()
    bad = tmp_path / "bad.pub"
    key = coop.keys["alice"].read_text().strip()
    for text in (
        f'command="/bin/sh" {key}',  # options smuggled in front of the key
        f"{key}\n{key}",  # two lines
        "ssh-ed25519 not-base64!",
        "hello",
    ):
        bad.write_text(text)
        result = coop("access", "add-key", "alice", bad, *args, "--as", "coordinator", ok=False)
        assert result.stderr.startswith(f"error: {bad}: "), result.stderr
    assert not coop.authorized.exists()
    assert "rm -rf" not in coop("access", "list", "--as", "coordinator").output


def shell(coop, command: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "SSH_ORIGINAL_COMMAND": command, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "timebank", "shell", "--member", "alice", "--ledger", coop.ledger],
        capture_output=True,
        text=True,
        env=env,
    )


def test_shell_runs_only_allowed_commands_as_its_member(coop):
    coop("log", "alice", "bob", "1h", "-k", "shopping", "--as", "coordinator")
    assert shell(coop, "balance").stdout.split() == ["alice", "Alice", "1h"]
    for command, says in (
        ("balance --as bob", "--as is refused"),
        ("balance --a bob", "--a is refused"),
        ("statement --ledger=/tmp/x", "--ledger is refused"),
        ("member list", "'member' is not a command"),
        ("offer add -k shopping --for bob x", "--for is refused"),
        ("rules load /tmp/x", "'rules' is not a command"),
        ("balance 'unclosed", "cannot be read"),
    ):
        done = shell(coop, command)
        assert done.returncode == 1 and says in done.stderr, (command, done.stderr)
    done = shell(coop, "balance", {"TIMEBANK_USER": "bob"})
    assert done.returncode == 1 and "TIMEBANK_USER is set" in done.stderr
    done = shell(coop, "balance", {"TIMEBANK_LEDGER": "/tmp/other.sqlite"})
    assert done.returncode == 1 and "TIMEBANK_LEDGER is set" in done.stderr
    no_tty = shell(coop, "")
    assert no_tty.returncode == 1 and "needs a terminal" in no_tty.stderr
    coop("member", "retire", "alice", "--as", "coordinator")
    retired = shell(coop, "balance")
    assert retired.returncode == 1 and "'alice' is retired and cannot act" in retired.stderr


def test_pin_sets_ones_own_and_a_coordinator_issues_a_one_time_code(coop):
    from timebank.ledger import Ledger

    runner = CliRunner()
    done = runner.invoke(cli, ["pin", "--as", "alice"], input="2468\n2468\n")
    assert done.exit_code == 0 and "PIN set for alice" in done.output and "2468" not in done.output
    refused = coop("pin", "--issue", "bob", "--as", "alice", ok=False)
    assert "only a co-ordinator" in refused.stderr
    code = coop("pin", "--issue", "bob", "--as", "coordinator").output.split()[4]
    assert len(code) == 8 and code.isdigit()
    bad = runner.invoke(cli, ["pin", "--as", "alice"], input="12\n12\n")
    assert bad.exit_code == 1 and "a PIN is 4 to 12 digits" in bad.output + bad.stderr
    with Ledger(coop.ledger) as ledger:
        assert ledger.check_pin("alice", "2468").member.handle == "alice"
        assert ledger.check_pin("bob", code).one_time
    over_ssh = subprocess.run(
        [sys.executable, "-m", "timebank", "shell", "--member", "bob", "--ledger", coop.ledger],
        capture_output=True,
        text=True,
        input="1357\n1357\n",
        env={"PATH": "/usr/bin:/bin", "SSH_ORIGINAL_COMMAND": "pin"},
    )
    assert over_ssh.returncode == 0 and "PIN set for bob" in over_ssh.stdout, over_ssh.stderr
    with Ledger(coop.ledger) as ledger:
        assert not ledger.check_pin("bob", "1357").one_time
