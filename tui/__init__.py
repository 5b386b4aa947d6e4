"""The Textual terminal UI, installed as ``timebank.tui``. It imports timebank, never the reverse:
the CLI finds it through the ``timebank.ui`` entry point."""
