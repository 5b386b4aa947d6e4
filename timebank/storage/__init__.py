"""Where the ledger lives on disk: the SQLite file, its schema and migrations, the SQL that
reads and writes it, and the files beside it (anchors, backups, safe outputs, verify).

Nothing outside this package speaks SQL to the ledger's own tables; the rest of timebank
asks through ``timebank.ledger.Ledger`` and the plugins' read API.
"""
