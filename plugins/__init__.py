"""timebank's built-in plugins: each co-op rule set is an ordinary plugin module."""
