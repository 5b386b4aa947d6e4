"""Files in and out of the ledger: CSV import and export, accounting journals (hledger,
beancount), whole-ledger bundles, and checks that an import reproduces an export."""
