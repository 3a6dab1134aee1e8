"""Run a command and report its peak resident memory and CPU time: `python bench/peak_rss.py CMD [ARGS...]`.

The benchmarks hold their generated data in memory. A child forked straight from them
reports their pages in its ru_maxrss (the mark survives exec), so the measured command is
started from this small process instead, and its own peak and CPU seconds (user + system)
are printed last: `peak_rss_bytes N` then `cpu_seconds S`. CPU time says how much work the
command did, which a busy machine changes far less than it changes wall time.
"""

from __future__ import annotations

import os
import subprocess
import sys


def main() -> None:
    child = subprocess.Popen(sys.argv[1:])
    _, status, usage = os.wait4(child.pid, 0)
    print(f"peak_rss_bytes {usage.ru_maxrss * 1024}", flush=True)
    print(f"cpu_seconds {usage.ru_utime + usage.ru_stime:.3f}", flush=True)
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
