"""User accounts and their roles, changed through audited services."""
