"""Real services the tests start, break and restart themselves, never the machine's shared ones."""
