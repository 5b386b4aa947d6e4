"""The ``timebank`` command line: the click group (``main``), its commands grouped by what
they do (``commands``) and the one way they print rows (``formats``)."""
