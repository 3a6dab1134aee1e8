"""Roles benchmark: what reading a user's roles from the database on every request costs, on PostgreSQL.

    python bench/roles_bench.py [--requests 500] [--database-url postgres://postgres@127.0.0.1:5432/triad_roles_bench]

Roles are not cached between requests (so a role taken away stops at once, in every process).
It recreates a scratch database, migrates it, and with a reviewer holding both roles times,
p50 and p95 over --requests each, in process:

- the role read: has_role on a fresh user object (one query, as each request makes once);
- the baseline: loading the user by id, the query every signed-in request already makes;
- a whole signed-in page (the reviewer's /review/ through Django's test client, DEBUG off),
  which includes one role read, so the read's share of a request is shown.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

from review_loop import django_setup, migrate
from scratch_db import recreate_database


def timed(action: Callable[[], object], runs: int) -> tuple[float, float]:
    for _ in range(min(runs, 20)):  # warm connections and caches
        action()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), statistics.quantiles(samples, n=20)[18]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/triad_roles_bench")
    parser.add_argument("--requests", type=int, default=500)
    options = parser.parse_args()

    print(f"recreating {options.database_url} and migrating ...", flush=True)
    recreate_database(options.database_url)
    migrate(options.database_url)
    django_setup(options.database_url)
    from django.contrib.auth import get_user_model
    from django.test import Client

    from accounts.services import account_ensure
    from core.roles import LEAD, has_role

    user = account_ensure(username="bench-roles", password="bench-roles", roles=["reviewer", "lead"])  # noqa: S106
    users = get_user_model().objects
    client = Client()
    client.force_login(user)

    def role_read() -> None:
        if not has_role(users.get(pk=user.pk), LEAD):
            sys.exit("the bench user lost the lead role")

    def user_load() -> None:
        users.get(pk=user.pk)

    def page() -> None:
        status = client.get("/review/").status_code
        if status != 200:
            sys.exit(f"/review/ answered {status}")

    user_load_ms = timed(user_load, options.requests)
    role_read_ms = timed(role_read, options.requests)  # includes a user load: subtract the baseline
    page_ms = timed(page, options.requests)
    role_only = role_read_ms[0] - user_load_ms[0]
    print(f"baseline, user load by id:      p50 {user_load_ms[0]:.3f} ms  p95 {user_load_ms[1]:.3f} ms")
    print(f"user load + role read:          p50 {role_read_ms[0]:.3f} ms  p95 {role_read_ms[1]:.3f} ms")
    print(f"role read alone (difference):   p50 {role_only:.3f} ms")
    print(f"signed-in page /review/:        p50 {page_ms[0]:.3f} ms  p95 {page_ms[1]:.3f} ms")
    print(f"role read's share of the page:  {role_only / page_ms[0]:.1%}")


if __name__ == "__main__":
    main()
