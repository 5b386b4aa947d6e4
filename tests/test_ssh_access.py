"""Members over SSH, against Debian's real OpenSSH server (issue 12).

The test starts ``/usr/sbin/sshd -D`` on 127.0.0.1 on a free port with a temporary host
key, a throwaway service account (unlocked, with a shell, its home outside world-writable
folders so ``StrictModes`` holds) and the ``authorized_keys`` that ``timebank access
add-key`` writes. Members then connect with their own keys as the real ``ssh`` client.

It needs root (to add the account and run sshd); it is skipped otherwise, saying so.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

SSHD = Path("/usr/sbin/sshd")
pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="needs root: it adds a throwaway service account and runs sshd"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def python_for(user: str) -> str:
    """An interpreter the service account may run: this one, or Debian's of the same version.

    The test's virtual environment may live under /root (mode 0700); the service account
    then runs Debian's python3.X with the environment's site-packages, which is what the
    wrapper below does. A real install puts timebank where the service account reads it.
    """
    real = Path(os.path.realpath(sys.executable))
    probe = subprocess.run(["su", "-s", "/bin/sh", user, "-c", f"test -x {real}"], check=False)
    if probe.returncode == 0:
        return str(real)
    debian = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
    assert debian.exists(), f"no interpreter the service account can run ({real} is not readable)"
    return str(debian)


def run(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, check=False, **kwargs)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not SSHD.exists():
        pytest.fail("openssh-server is not installed: run 'make sshd' (make test does)")
    work = tmp_path_factory.mktemp("ssh")
    user = f"tbssh{secrets.token_hex(3)}"
    home = Path(f"/var/lib/{user}")  # root-owned parents, none world-writable: StrictModes holds
    assert run("useradd", "--home-dir", home, "--create-home", "--shell", "/bin/sh", user).returncode == 0
    procs = []
    try:
        assert run("usermod", "-p", "*", user).returncode == 0  # no password, but not locked
        entry = pwd.getpwnam(user)
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        # the program a key runs: timebank, by an interpreter the service account can execute
        program = home / "bin" / "timebank"
        program.parent.mkdir()
        site = sysconfig.get_paths()["purelib"]
        program.write_text(
            f"#!/bin/sh\nexec {python_for(user)} -c 'import site, sys; site.addsitedir(sys.argv.pop(1)); "
            f'from timebank.cli.main import main; main()\' {site} "$@"\n'
        )
        program.chmod(0o755)
        ledger = home / "coop.sqlite"
        env = {**os.environ, "TIMEBANK_LEDGER": str(ledger)}
        env.pop("TIMEBANK_USER", None)
        timebank = [sys.executable, "-m", "timebank"]

        owner: list[str] = []  # once the files are the service account's, it runs timebank

        def tb(*args) -> subprocess.CompletedProcess:
            command = [*owner, str(program)] if owner else timebank
            done = subprocess.run(
                [*command, *map(str, args)], capture_output=True, text=True, env=env, check=False
            )
            assert done.returncode == 0, done.stderr
            return done

        tb("init", "--name", "Valley Care")
        for handle in ("alice", "bob", "cora"):
            tb("member", "add", handle, handle.title(), "--as", "coordinator")
        tb("log", "bob", "alice", "1h", "-k", "shopping", "--as", "coordinator")
        tb("log", "cora", "bob", "2h", "-k", "shopping", "--as", "coordinator")
        keys = {}
        authorized = home / ".ssh" / "authorized_keys"
        for handle in ("alice", "bob", "cora"):  # cora's key is the one revoked
            key = work / f"{handle}_key"
            assert run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", handle, "-f", key).returncode == 0
            keys[handle] = key
            tb("access", "add-key", handle, f"{key}.pub", "--authorized-keys", authorized,
               "--program", program, "--as", "coordinator")  # fmt: skip
        for path in (home, *home.rglob("*")):
            os.chown(path, entry.pw_uid, entry.pw_gid)
        (home / ".ssh").chmod(0o700)
        owner[:] = ["runuser", "-u", user, "--", "env", f"TIMEBANK_LEDGER={ledger}"]
        host_key = work / "host_key"
        assert run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", host_key).returncode == 0
        port = free_port()
        config = work / "sshd_config"
        config.write_text(
            f"Port {port}\nListenAddress 127.0.0.1\nHostKey {host_key}\nPidFile none\n"
            f"AllowUsers {user}\nAuthorizedKeysFile .ssh/authorized_keys\nStrictModes yes\n"
            "PubkeyAuthentication yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            "UsePAM no\nPermitRootLogin no\nLogLevel VERBOSE\n"
        )
        log = (work / "sshd.log").open("w")
        sshd = subprocess.Popen([str(SSHD), "-D", "-f", str(config), "-e"], stderr=log, stdout=log)
        procs.append(sshd)
        for _ in range(200):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert sshd.poll() is None, (work / "sshd.log").read_text()
            time.sleep(0.05)

        def ssh_args(handle: str, *options: str) -> list[str]:
            return [
                "ssh", *options, "-i", str(keys[handle]), "-p", str(port), "-o", "BatchMode=yes",
                "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", f"{user}@127.0.0.1",
            ]  # fmt: skip

        def ssh(handle: str, *command: str) -> subprocess.CompletedProcess:
            return run(*ssh_args(handle), *command, timeout=30)

        ssh.ssh_args = ssh_args

        ssh.tb = tb
        ssh.authorized = authorized
        ssh.program = program
        ssh.ledger = ledger
        ssh.home = home
        ssh.uid = (entry.pw_uid, entry.pw_gid)
        yield ssh
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)
        run("userdel", user)
        shutil.rmtree(home, ignore_errors=True)


def test_a_members_key_reads_their_own_balance_only(server):
    done = server("alice", "balance")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["alice", "Alice", "-1h"]
    refused = server("alice", "balance", "bob")
    assert refused.returncode == 1 and refused.stderr == "error: balance: alice may not read 'bob'\n"
    assert server("alice", "statement", "bob").returncode == 1


def test_acting_as_someone_else_or_reaching_a_shell_is_refused(server, tmp_path):
    done = server("alice", "balance --as cora")
    assert done.returncode == 1
    assert "--as is refused" in done.stderr
    canary = server.home / "canary"
    canary.write_text("still here")
    for command in ("balance; rm -rf /", f"balance; rm {canary}", "$(rm canary)", "export --out x"):
        done = server("alice", command)
        assert done.returncode == 1 and done.stderr.startswith("error: shell: "), (command, done.stderr)
    assert canary.read_text() == "still here"
    assert server("alice", "balance", "--ledger", "/tmp/x.sqlite").returncode == 1


def test_a_key_cannot_confirm_its_own_claim_and_the_other_side_can(server):
    done = server("alice", "log alice bob 15m -k shopping")
    assert done.returncode == 0, done.stderr
    claim = done.stdout.split()[1].lstrip("#")
    assert "waiting for bob" in done.stdout
    refused = server("alice", f"confirm {claim}")
    assert refused.returncode == 1 and f"claim #{claim} waits for bob, not alice" in refused.stderr
    done = server("bob", f"confirm {claim}")
    assert done.returncode == 0 and "confirmed as entry" in done.stdout, done.stderr


def test_a_revoked_key_is_refused(server):
    assert server("cora", "balance").returncode == 0
    listed = server.tb("access", "list", "--as", "coordinator").stdout
    cora_key = next(line.split()[0].lstrip("#") for line in listed.splitlines() if " cora " in line)
    server.tb("access", "revoke", cora_key, "--authorized-keys", server.authorized,
              "--program", server.program, "--as", "coordinator")  # fmt: skip
    assert "--member cora" not in server.authorized.read_text()
    done = server("cora", "balance")
    assert done.returncode == 255 and "Permission denied" in done.stderr
    assert "revoked" in server.tb("access", "list", "--all", "--as", "coordinator").stdout
    assert server("alice", "balance").returncode == 0


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux to drive the terminal")
def test_the_tui_over_ssh_shows_the_member_and_offers_no_f8(server, tmp_path):
    socket_name = f"tb{secrets.token_hex(3)}"
    ssh = " ".join(server.ssh_args("alice", "-t"))
    tmux = ["tmux", "-L", socket_name]
    run(*tmux, "new-session", "-d", "-s", "tui", "-x", "140", "-y", "40", f"TERM=xterm-256color {ssh}")
    try:

        def screen() -> str:
            return run(*tmux, "capture-pane", "-p", "-t", "tui").stdout

        def wait_for(text: str) -> str:
            for _ in range(150):
                shown = screen()
                if text in shown:
                    return shown
                time.sleep(0.1)
            raise AssertionError(f"{text!r} never appeared:\n{shown}")

        shown = wait_for("signed in as Alice (alice)")
        assert "choose who is recording" not in shown
        run(*tmux, "send-keys", "-t", "tui", "F8")
        time.sleep(1)
        assert "Who is recording?" not in screen()
        assert "signed in as Alice (alice)" in screen()
    finally:
        run(*tmux, "kill-server")
