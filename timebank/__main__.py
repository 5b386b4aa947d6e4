"""``python -m timebank`` runs the CLI."""

from timebank.cli.main import main

main()
