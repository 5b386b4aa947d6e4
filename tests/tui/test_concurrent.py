"""The TUI and the CLI writing to one ledger at the same time lose nothing."""

import os
import subprocess
import sys

from tui_helpers import type_into

from timebank.ledger import Ledger

N = 15


async def test_tui_and_cli_write_at_once(app_for, coop):
    coop.change_settings("credit_limits", {"floor": "-500h", "warn_below": "-500h"}, actor="coord")
    coop.change_settings("classic", {"max_per_day": "24h"}, actor="coord")
    script = (
        "import sys\n"
        "from timebank.cli.main import main\n"
        f"for i in range({N}):\n"
        "    sys.argv = ['timebank', 'log', 'carol', 'bob', '5m', '-k', 'shopping', '--as', 'coord',\n"
        "                '-n', f'cli {i}']\n"
        "    try:\n"
        "        main()\n"
        "    except SystemExit as done:\n"
        "        assert done.code in (0, None), done.code\n"
    )
    env = {**os.environ, "TIMEBANK_LEDGER": str(coop.path)}
    writer = subprocess.Popen(
        [sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    app = app_for()
    async with app.run_test(size=(100, 34)) as pilot:
        for i in range(N):
            await type_into(pilot, "#giver", "alice")
            await type_into(pilot, "#receiver", "bob")
            await type_into(pilot, "#duration", "5m")
            await type_into(pilot, "#note", f"tui {i}")
            await pilot.press("enter")
            await pilot.pause()
            assert str(app.screen.query_one("#saved").render()).startswith("Entry #")
    out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    assert "locked" not in err + out
    with Ledger(coop.path) as ledger:
        notes = sorted(e.note for e in ledger.entries(limit=1000))
        assert notes == sorted([f"cli {i}" for i in range(N)] + [f"tui {i}" for i in range(N)])
        assert ledger.balance("alice") == N * 5 and ledger.balance("carol") == N * 5
        assert ledger.verify().ok
