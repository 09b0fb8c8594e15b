"""How the figures grow with the data: fan-out, inbox and pages at sizes
100 -> 100 000, written as CSV (bench/results/growth.csv) and plotted
(bench/results/*.png, matplotlib: pip install -e '.[bench]'), and the
figures written into bench/RESULTS.md with the machine described.

    python bench/growth.py [--sizes 100,1000,10000,100000] [--inbox-sizes 100,1000,3000]
                           [--databases sqlite,postgres] [--plot-only]

* fan-out: F followers (F = each size) on min(500, F/20) servers with shared
  inboxes (bench/fanout.py, one round): Circles' seconds, the baseline's, and
  SQL statements per delivery;
* inbox: N signed activities from 32 connections (bench/inbox.py): the
  rate, its p99, the worker's drain rate and new requests' p99 meanwhile
  (an inbox run at 100 000 would take half an hour here: --inbox-sizes);
* pages: one circle grown through every size (bench/pages.py --sizes),
  the p95 of each page at each.

--plot-only redraws the plots and RESULTS.md from the CSV already written.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from bench.common import machine  # noqa: E402

RESULTS = BENCH / "results"
CSV = RESULTS / "growth.csv"


def run(argv: list[str]) -> None:
    print("== " + " ".join(argv) + f" (load average {os.getloadavg()[0]:.2f})", flush=True)
    result = subprocess.run([sys.executable, *argv], cwd=BENCH.parent, stdout=subprocess.PIPE, text=True)
    print("\n".join(line for line in result.stdout.splitlines() if line.startswith("ratio:")), flush=True)
    if result.returncode != 0:
        print(result.stdout[-2000:])
        print(f"   FAILED with {result.returncode}", flush=True)


def measure(args: argparse.Namespace) -> None:
    sizes = [int(s) for s in args.sizes.split(",")]
    for database in args.databases.split(","):
        for size in sizes:
            hosts = str(max(5, min(500, size // 20)))
            run(["bench/fanout.py", "--followers", str(size), "--hosts", hosts, "--rounds", "1",
                 *(["--database-url", "postgres"] if database == "postgres" else []), "--csv", str(CSV)])
        run(["bench/pages.py", "--sizes", args.sizes, "--requests", str(args.requests), "--database", database,
             "--csv", str(CSV)])
        for size in (int(s) for s in args.inbox_sizes.split(",")):
            run(["bench/inbox.py", "--count", str(size), "--probe-count", "50",
                 *(["--postgres"] if database == "postgres" else []), "--csv", str(CSV)])


def read() -> dict[tuple[str, str, str], list[tuple[int, float]]]:
    """(benchmark, database, metric) -> [(size, value)], the last value written for each size."""
    series: dict[tuple[str, str, str], dict[int, float]] = defaultdict(dict)
    with CSV.open() as rows:
        for row in csv.DictReader(rows):
            series[row["benchmark"], row["database"], row["metric"]][int(row["size"])] = float(row["value"])
    return {key: sorted(values.items()) for key, values in series.items()}


def plot(series) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    charts = {
        "fanout": ("Fan-out: seconds for one post (shared inboxes)", "followers", ("circles_s", "baseline_s")),
        "inbox": ("Inbox: activities per second (32 connections)", "activities sent",
                  ("rate_per_s", "baseline_rate_per_s", "drain_per_s")),
        "pages": ("Pages: p95 (ms)", "posts in the circle", None),
    }
    made = []
    for benchmark, (title, xlabel, metrics) in charts.items():
        lines = [(key, points) for key, points in series.items()
                 if key[0] == benchmark and (metrics is None or key[2] in metrics)]
        if benchmark == "pages":
            lines = [(key, points) for key, points in lines if not key[2].endswith("baseline_p95_ms")]
        if not lines:
            continue
        figure, axes = plt.subplots(figsize=(8, 5))
        for (_, database, metric), points in sorted(lines):
            axes.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=f"{database} {metric}")
        axes.set_xscale("log")
        axes.set_xlabel(xlabel)
        axes.set_title(title)
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize="small")
        figure.tight_layout()
        path = RESULTS / f"{benchmark}.png"
        figure.savefig(path, dpi=90)
        plt.close(figure)
        made.append((benchmark, path.name))
    return made


def write_results(series, charts) -> None:
    lines = [
        "# Benchmark results",
        "",
        f"Written by `bench/growth.py` on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        f"Machine: {machine()}.",
        "",
        "Other work ran on the machine at the same time: each row of the CSV carries the",
        "load average when it was written (`load1`); read the figures as indications.",
        "`make bench` prints the ratios against baselines measured in the same run,",
        "which hold better across machines than these absolute figures.",
        "",
    ]
    for benchmark, image in charts:
        lines += [f"## {benchmark}", "", f"![{benchmark}](results/{image})", "",
                  "| database | metric | " + " | ".join(str(size) for size in sorted(
                      {size for key, points in series.items() if key[0] == benchmark for size, _ in points})) + " |"]
        sizes = sorted({size for key, points in series.items() if key[0] == benchmark for size, _ in points})
        lines.append("|---|---|" + "---|" * len(sizes))
        for (name, database, metric), points in sorted(series.items()):
            if name != benchmark:
                continue
            values = dict(points)
            lines.append(f"| {database} | {metric} | " + " | ".join(
                f"{values[size]:g}" if size in values else "" for size in sizes) + " |")
        lines.append("")
    lines += ["The raw rows: [results/growth.csv](results/growth.csv).", ""]
    log = RESULTS / "bench.log"
    if log.exists():  # the last `make bench`: its ratio lines, each run headed by the load average
        ratios = [line for line in log.read_text().splitlines() if line.startswith(("== ", "ratio:"))]
        stamp = dt.datetime.fromtimestamp(log.stat().st_mtime, dt.UTC)
        lines += [f"## The last `make bench` ({stamp:%Y-%m-%d %H:%M} UTC)", "", "```", *ratios, "```", ""]
    (BENCH / "RESULTS.md").write_text("\n".join(lines))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,1000,10000,100000")
    parser.add_argument("--inbox-sizes", default="100,1000,3000")
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--requests", type=int, default=40, help="requests per page at each size")
    parser.add_argument("--plot-only", action="store_true")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    if not args.plot_only:
        if CSV.exists():
            CSV.unlink()
        measure(args)
    series = read()
    write_results(series, plot(series))
    print(f"wrote {CSV}, the plots and {BENCH / 'RESULTS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
