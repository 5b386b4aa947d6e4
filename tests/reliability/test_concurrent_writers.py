"""Four processes, two CLI-style and two TUI-style, write to one ledger at once."""

import subprocess
import time

from conftest import SOAK, writer_command

from timebank.ledger import Ledger

PER_WRITER = 3000 if SOAK else 1000


def test_four_writers_lose_nothing_and_never_see_database_is_locked(roomy):
    path = roomy.path
    roomy.close()
    began = time.perf_counter()
    writers = {
        name: subprocess.Popen(
            writer_command(kind, path, name, PER_WRITER),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, kind in (("cli1", "cli"), ("cli2", "cli"), ("tui1", "ledger"), ("tui2", "ledger"))
    }
    for name, writer in writers.items():
        out, err = writer.communicate(timeout=600)
        assert writer.returncode == 0, f"{name}: {err[-500:]}"
        assert "locked" not in (out + err).lower()
    with Ledger(path) as ledger:
        notes = [row[0] for row in ledger.conn.execute("SELECT note FROM entries")]
        assert len(notes) == 4 * PER_WRITER
        for name in writers:
            assert {f"{name}-{i}" for i in range(PER_WRITER)} <= set(notes), name
        assert sum(value for _, value in ledger.balances()) == 0
        assert sum(ledger.balance(h) for h in ("alice", "bob", "carol", "dan")) == 0
        report = ledger.verify()
        assert report.ok, report.problem
    print(
        f"\n4 writers x {PER_WRITER}: {4 * PER_WRITER} exchanges in "
        f"{time.perf_counter() - began:.1f} s, all there"
    )
