"""``python -m timebank`` runs the CLI."""

from timebank.cli import main

main()
