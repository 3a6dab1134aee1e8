"""Every write of the review workflow, by area: studies, assignment (claims, leases, skips), reviews."""
