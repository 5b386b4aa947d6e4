"""A writer process for the crash and concurrency tests.

``crash LEDGER START``: forever, either imports a CSV of ``IMPORT_ROWS`` exchanges (notes
``imp-I-ROW``) or logs one exchange (note ``log-I``), printing ``imported I`` or ``saved I``
only once the ledger has committed it.
``ledger LEDGER NAME COUNT``: records COUNT exchanges through the ledger API (TUI-style).
``cli LEDGER NAME COUNT``: runs ``timebank log`` COUNT times in this process (CLI-style).
``racer``: runs ``timebank`` commands on a signal, for the race tests: reads a JSON list of
arguments from stdin, answers ``ready``, waits for a ``go`` line, runs the command (the real
CLI, in this process) and answers one JSON line ``{"exit", "out", "err"}``; again until EOF.
Processes started once and told ``go`` together race each command, without paying Python's
start-up in every round.
"""

import datetime as dt
import json
import random
import sys
import traceback
from pathlib import Path

from timebank.interchange import csvio
from timebank.ledger import Ledger
from timebank.testing import exchange

IMPORT_ROWS = 300
HANDLES = ["alice", "bob", "carol", "dan"]


def crash(path: str, start: int) -> None:
    rng = random.Random(start)
    ledger = Ledger(path)
    folder = Path(path).parent
    i = start
    while True:
        i += 1
        day = dt.date.today() - dt.timedelta(days=rng.randrange(0, 300))
        if rng.random() < 0.3:
            csv_path = folder / f"import-{i}.csv"
            rows = [
                {
                    "date": (day - dt.timedelta(days=rng.randrange(0, 300))).isoformat(),  # after joining
                    "giver": g,
                    "receiver": r,
                    "duration": "1m",
                    "category": "shopping",
                    "note": f"imp-{i}-{n}",
                }
                for n in range(IMPORT_ROWS)
                for g, r in [rng.sample(HANDLES, 2)]
            ]
            csv_path.write_text(csvio.exchanges_csv(rows))
            csvio.import_exchanges(ledger, csv_path, actor="coord")
            print(f"imported {i}", flush=True)
        else:
            giver, receiver = rng.sample(HANDLES, 2)
            ledger.record(exchange(giver, receiver, 5, day=day, note=f"log-{i}"))
            print(f"saved {i}", flush=True)


def ledger_writer(path: str, name: str, count: int) -> None:
    rng = random.Random(name)
    with Ledger(path) as ledger:
        for i in range(count):
            giver, receiver = rng.sample(HANDLES, 2)
            ledger.record(
                exchange(
                    giver, receiver, 1, day=dt.date.today() - dt.timedelta(days=i % 200), note=f"{name}-{i}"
                )
            )


def cli_writer(path: str, name: str, count: int) -> None:
    from click.testing import CliRunner

    from timebank.cli.main import cli

    rng = random.Random(name)
    runner = CliRunner()
    for i in range(count):
        giver, receiver = rng.sample(HANDLES, 2)
        result = runner.invoke(
            cli,
            [
                "log",
                giver,
                receiver,
                "1m",
                "-k",
                "shopping",
                "-d",
                f"-{i % 200}",
                "-n",
                f"{name}-{i}",
                "--as",
                "coord",
                "--ledger",
                path,
            ],
        )
        if result.exit_code != 0:
            print(f"error: {result.output} {result.stderr}", file=sys.stderr, flush=True)
            sys.exit(1)


def racer() -> None:
    from click.testing import CliRunner

    from timebank.cli.main import cli

    runner = CliRunner()
    while line := sys.stdin.readline():
        args = json.loads(line)
        print("ready", flush=True)
        if sys.stdin.readline().strip() != "go":
            return
        result = runner.invoke(cli, args)
        err = result.stderr
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            err += "".join(traceback.format_exception(result.exception))
        print(json.dumps({"exit": result.exit_code, "out": result.stdout, "err": err}), flush=True)


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    if mode == "crash":
        crash(args[0], int(args[1]))
    elif mode == "racer":
        racer()
    elif mode == "ledger":
        ledger_writer(args[0], args[1], int(args[2]))
    else:
        cli_writer(args[0], args[1], int(args[2]))
