"""A writer killed with SIGKILL at random moments: nothing it reported is lost, nothing is half-written."""

import random
import re
import signal
import subprocess
import threading
import time

from conftest import SOAK, writer_command
from writer import IMPORT_ROWS

from timebank.ledger import Ledger

KILLS = 50 if SOAK else 10


def test_sigkill_at_random_moments_loses_nothing_reported_and_leaves_no_half_writes(roomy):
    path = roomy.path
    roomy.close()
    rng = random.Random(2026)
    reported_saved, reported_imports = set(), set()
    for kill in range(KILLS):
        writer = subprocess.Popen(
            writer_command("crash", path, kill * 100_000),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        lines: list[str] = []
        reader = threading.Thread(target=lines.extend, args=(writer.stdout,), daemon=True)
        reader.start()
        started = time.monotonic()
        while not lines and writer.poll() is None and time.monotonic() - started < 60:
            time.sleep(0.01)  # wait until it has written something, however slow the machine
        time.sleep(rng.uniform(0.0, 0.6))  # then kill it at a random moment of its writing
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
        reader.join(timeout=30)
        err = writer.stderr.read()
        assert writer.returncode == -signal.SIGKILL, err
        out = "".join(lines)
        reported_saved |= {int(m) for m in re.findall(r"^saved (\d+)$", out, re.M)}
        reported_imports |= {int(m) for m in re.findall(r"^imported (\d+)$", out, re.M)}
        with Ledger(path) as ledger:
            report = ledger.verify()
            assert report.ok, f"after kill {kill}: {report.problem}"
            notes = [row[0] for row in ledger.conn.execute("SELECT note FROM entries")]
        logged = {int(n[4:]) for n in notes if n.startswith("log-")}
        assert reported_saved <= logged, f"lost: {sorted(reported_saved - logged)[:5]}"
        imports: dict[int, int] = {}
        for note in notes:
            if note.startswith("imp-"):
                batch = int(note.split("-")[1])
                imports[batch] = imports.get(batch, 0) + 1
        assert all(count == IMPORT_ROWS for count in imports.values()), f"half an import: {imports}"
        assert reported_imports <= set(imports)
    assert reported_saved and reported_imports, "the kills must land among both kinds of write"
    print(
        f"\n{KILLS} kills: {len(reported_saved)} exchanges and {len(reported_imports)} imports "
        f"of {IMPORT_ROWS} reported saved, every one found; no half-written import; "
        "verify clean after every kill"
    )
