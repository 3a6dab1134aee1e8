"""The audit log: who changed what, appended by the services that make each change."""
