"""Agreement statistics, per-study snapshots and the lead dashboard's figures."""
