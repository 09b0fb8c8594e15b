"""Every benchmark, one after the other (`make bench`), then every `ratio:` line.

    python bench/all.py [--quick] [--only NAME ...] [--log bench/results/bench.log]

Sizes are chosen to finish in under 15 minutes on a 2-core machine; --quick
runs each at a small size (a minute or two, to check they work). Each
benchmark's whole output goes to the log; at the end the `ratio:` lines of all
of them are printed together, with the load average beside each benchmark.
PostgreSQL runs use a database of their own (createdb), dropped after.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent

# (name, arguments, quick arguments); the targets are issue 15's.
RUNS = [
    ("fanout_sqlite", ["fanout.py", "--followers", "10000", "--hosts", "500"],
     ["fanout.py", "--followers", "1000", "--hosts", "50", "--rounds", "1"]),
    ("fanout_unshared_sqlite", ["fanout.py", "--followers", "2000", "--hosts", "100", "--no-shared-inboxes"],
     ["fanout.py", "--followers", "200", "--hosts", "20", "--no-shared-inboxes", "--rounds", "1"]),
    ("fanout_postgres", ["fanout.py", "--followers", "10000", "--hosts", "500", "--database-url", "postgres"],
     ["fanout.py", "--followers", "1000", "--hosts", "50", "--rounds", "1", "--database-url", "postgres"]),
    ("eventloop_sqlite_inside", ["eventloop.py", "--followers", "10000", "--hosts", "500"],
     ["eventloop.py", "--followers", "500", "--hosts", "50", "--rounds", "2", "--idle-seconds", "1"]),
    ("eventloop_postgres_inside", ["eventloop.py", "--followers", "10000", "--hosts", "500", "--database", "postgres"],
     ["eventloop.py", "--followers", "500", "--hosts", "50", "--rounds", "2", "--idle-seconds", "1",
      "--database", "postgres"]),
    ("eventloop_postgres_apart", ["eventloop.py", "--followers", "10000", "--hosts", "500", "--database", "postgres",
                                  "--worker", "apart"],
     ["eventloop.py", "--followers", "500", "--hosts", "50", "--rounds", "2", "--idle-seconds", "1",
      "--database", "postgres", "--worker", "apart"]),
    ("pages_sqlite", ["pages.py", "--sizes", "1000,100000", "--requests", "60"],
     ["pages.py", "--sizes", "200,2000", "--requests", "10", "--members", "100"]),
    ("pages_postgres", ["pages.py", "--sizes", "1000,100000", "--requests", "60", "--database", "postgres"],
     ["pages.py", "--sizes", "200,2000", "--requests", "10", "--members", "100", "--database", "postgres"]),
    ("inbox_sqlite", ["inbox.py", "--count", "1000"], ["inbox.py", "--count", "100", "--probe-count", "20"]),
    ("inbox_postgres", ["inbox.py", "--count", "1000", "--postgres"],
     ["inbox.py", "--count", "100", "--probe-count", "20", "--postgres"]),
    ("api_sqlite", ["api.py", "--posts", "10000", "--requests", "100", "--seconds", "5"],
     ["api.py", "--posts", "1000", "--members", "100", "--requests", "10", "--seconds", "1"]),
    ("servers_sqlite", ["servers.py"], ["servers.py", "--seconds", "1", "--rounds", "1"]),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a check that each runs")
    parser.add_argument("--only", nargs="*", help="only these runs (names as printed)")
    parser.add_argument("--log", default=str(BENCH / "results" / "bench.log"))
    args = parser.parse_args()
    log = Path(args.log)
    log.parent.mkdir(parents=True, exist_ok=True)
    summary: list[str] = []
    failed: list[str] = []
    started = time.monotonic()
    with log.open("w") as out:
        for name, full, quick in RUNS:
            if args.only and name not in args.only:
                continue
            argv = [sys.executable, str(BENCH / (quick if args.quick else full)[0]), *(quick if args.quick else full)[1:]]
            before = os.getloadavg()[0]
            print(f"== {name}: {' '.join(argv[1:])} (load average {before:.2f})", flush=True)
            out.write(f"== {name}: {' '.join(argv[1:])} (load average {before:.2f})\n")
            out.flush()
            run_started = time.monotonic()
            result = subprocess.run(argv, stdout=subprocess.PIPE, stderr=out, text=True)
            out.write(result.stdout)
            out.flush()
            ratios = [line for line in result.stdout.splitlines() if line.startswith("ratio:")]
            for line in ratios:
                print(f"   {line}", flush=True)
            seconds = time.monotonic() - run_started
            summary.append(f"# {name}: {seconds:.0f} s, load average {before:.2f} -> {os.getloadavg()[0]:.2f}")
            summary.extend(ratios)
            if result.returncode != 0:
                failed.append(name)
                summary.append(f"# {name} FAILED ({result.returncode}): see {log}")
                print(result.stdout[-3000:], flush=True)
    print()
    print(f"== every ratio ({time.monotonic() - started:.0f} s in all; whole output in {log})")
    print("\n".join(summary))
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
