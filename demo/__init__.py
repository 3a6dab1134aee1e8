"""The demo data set and the command that loads it with demo accounts."""
