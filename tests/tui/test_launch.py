"""`timebank` with no command, on a real terminal, opens the TUI on the ledger."""

import os
import pty
import re
import select
import subprocess
import sys
import time


def test_timebank_with_no_command_opens_the_tui(coop):
    leader, follower = pty.openpty()
    env = {
        **os.environ,
        "TIMEBANK_LEDGER": str(coop.path),
        "TERM": "xterm-256color",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "timebank"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
        close_fds=True,
    )
    os.close(follower)
    seen = b""
    deadline = time.monotonic() + 30
    try:

        def screen_text() -> str:
            return re.sub(rb"\x1b\[[0-9;?<>=$]*[a-zA-Z~]", b"", seen).decode(errors="replace")

        while not ("Who is recording" in screen_text() and "Our Time Bank" in screen_text()) and (
            time.monotonic() < deadline
        ):
            ready, _, _ = select.select([leader], [], [], 0.5)
            if ready:
                try:
                    seen += os.read(leader, 65536)
                except OSError:
                    break
        text = screen_text()
        assert "Who is recording" in text
        # the header: the co-op, who is recording (never cut), then as much of the path as fits
        assert "Our Time Bank — choose who is recording (F8) · /tmp/" in text
        proc.terminate()
        proc.wait(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(leader)
