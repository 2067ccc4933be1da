"""Benchmark: ``deskhand analyze --json`` on a synthetic Syncro export of 1,000,000 tickets and
3,000,000 time entries, against a plain DuckDB SQL query computing the same per-category totals
from the same files, in the same run. Prints wall time and peak memory of each run and their
medians, with the load average (the machine may be shared); asserts nothing.

    python bench/analyze.py [--tickets 1000000] [--entries 3000000] [--runs 3] [--workdir bench/out]

The data is SYNTHETIC (fixed seed). deskhand shows the PSA's own categories by default, so both
sides compute the same totals per category; deskhand also does everything DuckDB's query does
not (validation, every data-quality count, the themes hidden in "Other", the report).
``--recategorize`` measures the path that merges the categories into deskhand's taxonomy and
categorises the vague ones from their text (DuckDB cannot do that part, so its figure is then
only a floor).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 1.5  # deskhand's whole process against DuckDB's query alone
TARGET_PEAK_MIB = 1000  # under 1 GB

# name, share of tickets, median minutes (log-normal), example subject
CATEGORIES = [
    ("Password reset", 0.17, 6, "Password reset for {user}"),
    ("Account lockout", 0.06, 8, "{user} locked out of account"),
    ("MFA", 0.05, 12, "MFA prompt not working for {user}"),
    ("New user onboarding", 0.05, 95, "New starter {user} starting Monday"),
    ("User offboarding", 0.04, 70, "Leaver: disable account for {user}"),
    ("License change", 0.04, 25, "Add Business Premium licence for {user}"),
    ("Mailbox / distribution list / shared mailbox", 0.05, 35, "Shared mailbox access for {user}"),
    ("Email delivery", 0.06, 30, "Emails to client bouncing for {user}"),
    ("Printer", 0.08, 15, "Printer on 2nd floor jammed again"),
    ("VPN / remote access", 0.05, 20, "VPN not connecting from home for {user}"),
    ("Network outage", 0.02, 110, "Internet down at main office"),
    ("Software install / update", 0.07, 22, "Install Adobe Acrobat for {user}"),
    ("Hardware / device", 0.06, 40, "Laptop screen flickering for {user}"),
    ("Backup alert", 0.03, 28, "Backup job failed on FS01"),
    ("Security alert / phishing", 0.03, 33, "Suspicious email reported by {user}"),
    ("File share / permissions", 0.04, 18, "Access to finance share for {user}"),
    ("Teams / SharePoint", 0.03, 16, "Teams calls dropping for {user}"),
    ("Billing / quote", 0.02, 20, "Quote for 5 new laptops"),
    ("Vendor escalation", 0.02, 130, "Line-of-business app vendor ticket"),
]
OTHER_SUBJECTS = ["Projector in boardroom", "Coffee machine on the network", "Question about IT"]


def generate(workdir: Path, tickets: int, entries: int, vague_share: float, seed: int) -> None:
    """Write tickets.csv and labour.csv (Syncro layout) into ``workdir``."""
    rng = np.random.default_rng(seed)
    names = [c[0] for c in CATEGORIES]
    shares = np.array([c[1] for c in CATEGORIES])
    true_category = rng.choice(len(CATEGORIES), size=tickets, p=shares / shares.sum())
    vague = rng.random(tickets) < vague_share
    end = datetime(2026, 11, 20, 17, 0)
    opened = [end - timedelta(minutes=int(m)) for m in rng.integers(0, 89 * 24 * 60, tickets)]
    users = np.array([f"user{n}@client{n % 20}.example" for n in range(500)])
    subject_template = np.array([c[3] for c in CATEGORIES])[true_category]
    user = users[rng.integers(0, len(users), tickets)]
    subjects = [t.replace("{user}", u) for t, u in zip(subject_template, user, strict=True)]
    issue_type = np.where(vague, "Other", np.array(names)[true_category])
    other_mask = vague & (rng.random(tickets) < 0.3)
    subjects = [
        OTHER_SUBJECTS[i % 3] if o else s
        for i, (s, o) in enumerate(zip(subjects, other_mask, strict=True))
    ]
    numbers = np.arange(100000, 100000 + tickets)
    ticket_frame = pl.DataFrame(
        {
            "Ticket Number": numbers,
            "Ticket Subject": subjects,
            "Ticket Customer": [f"Client {n % 20}" for n in range(tickets)],
            "Tech": [f"Tech {n % 15}" for n in rng.integers(0, 15, tickets)],
            "Ticket Initial Issue": [f"Hi, {s.lower()}. Thanks" for s in subjects],
            "Ticket Status": np.where(rng.random(tickets) < 0.9, "Resolved", "In Progress"),
            "Ticket Issue Type": issue_type,
            "Ticket Created": opened,
            "Ticket Contact": user,
            "Ticket Priority": "2 Normal",
        }
    ).with_columns(pl.col("Ticket Created").dt.strftime("%m/%d/%Y %I:%M %p"))
    ticket_frame.write_csv(workdir / "tickets.csv")

    owner = rng.integers(0, tickets, entries)
    median = np.array([c[2] for c in CATEGORIES], dtype=float)[true_category[owner]]
    minutes = np.maximum(1, np.round(rng.lognormal(np.log(median / 2), 0.8))).astype(int)
    started = np.array(opened, dtype="datetime64[m]")[owner] + rng.integers(5, 3000, entries)
    started = started.astype("datetime64[ms]")
    labour = pl.DataFrame(
        {
            "Customer": [f"Client {n % 20}" for n in owner],
            "Ticket Number": numbers[owner],
            "Tech": [f"Tech {n}" for n in rng.integers(0, 15, entries)],
            "Duration Minutes": minutes,
            "Billable Status": "Billable",
            "Labor Type": "Remote Support",
            "Created At": started,
            "Notes": "worked on it",
        }
    ).with_columns(pl.col("Created At").dt.strftime("%m/%d/%Y %I:%M %p"))
    labour.write_csv(workdir / "labour.csv")


DUCKDB_QUERY = """
WITH t AS (
    SELECT "Ticket Number" AS id, "Ticket Issue Type" AS category,
           strptime("Ticket Created", '%m/%d/%Y %I:%M %p') AS opened
    FROM read_csv('{tickets}', all_varchar = true)
), windowed AS (
    SELECT * FROM t WHERE opened >= (SELECT max(opened) FROM t) - INTERVAL 90 DAY
), l AS (
    SELECT "Ticket Number" AS id, greatest(sum(CAST("Duration Minutes" AS DOUBLE)), 0) AS minutes
    FROM read_csv('{labour}', all_varchar = true)
    WHERE CAST("Duration Minutes" AS DOUBLE) <= 1440
    GROUP BY 1
)
SELECT category, count(*) AS tickets, sum(coalesce(l.minutes, 0)) AS minutes
FROM windowed LEFT JOIN l USING (id)
GROUP BY category ORDER BY minutes DESC
"""


def run_measured(command: list[str]) -> tuple[float, float, bytes]:
    """Run ``command``; return wall seconds, peak RSS in MiB, and its stdout."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{command[0]} failed with status {status}")
    return wall, usage.ru_maxrss / 1024, output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--entries", type=int, default=3_000_000)
    parser.add_argument("--vague-share", type=float, default=0.1)
    parser.add_argument("--runs", type=int, default=3, help="runs of each; medians are printed")
    parser.add_argument("--recategorize", action="store_true")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    data = args.workdir / "data"
    data.mkdir(exist_ok=True)
    tickets_csv, labour_csv = data / "tickets.csv", data / "labour.csv"
    stamp = args.workdir / "params.json"
    params = {k: getattr(args, k) for k in ("tickets", "entries", "vague_share", "seed")}
    fresh = stamp.exists() and json.loads(stamp.read_text()) == params
    if args.generate_only:
        generate(data, args.tickets, args.entries, args.vague_share, args.seed)
        return
    if args.regenerate or not fresh or not tickets_csv.exists():
        # In a child process: a child forked from a big parent starts with the parent's peak
        # memory in its own accounting, which would spoil the figures below.
        started = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--generate-only", *sys.argv[1:]], check=True)
        stamp.write_text(json.dumps(params))
        print(f"generated SYNTHETIC data in {time.perf_counter() - started:.1f} s")
    size = (tickets_csv.stat().st_size + labour_csv.stat().st_size) / 2**20
    print(f"input: {args.tickets:,} tickets + {args.entries:,} time entries, {size:,.0f} MiB CSV")

    deskhand = [sys.executable, "-m", "deskhand", "analyze", "--json", str(data)]
    if args.recategorize:
        deskhand.append("--recategorize")
    query = DUCKDB_QUERY.format(tickets=tickets_csv, labour=labour_csv)
    script = (
        "import duckdb, json, sys, time\n"
        "duckdb.execute('SET enable_progress_bar = false')\n"  # it draws on stdout when slow
        "t = time.perf_counter()\n"
        f"rows = duckdb.sql({query!r}).fetchall()\n"
        "print(json.dumps({'seconds': time.perf_counter() - t, 'rows': rows}))\n"
    )
    walls, peaks, queries, duck_walls = [], [], [], []
    for run in range(1, args.runs + 1):
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        wall, peak, output = run_measured(deskhand)
        duck_wall, duck_peak, duck_output = run_measured([sys.executable, "-c", script])
        duck = json.loads(duck_output)
        walls.append(wall)
        peaks.append(peak)
        queries.append(duck["seconds"])
        duck_walls.append(duck_wall)
        print(
            f"run {run}: deskhand {wall:5.2f} s, {peak:5.0f} MiB | duckdb query "
            f"{duck['seconds']:5.2f} s (process {duck_wall:5.2f} s, {duck_peak:4.0f} MiB) | "
            f"load average {load}"
        )
    wall, peak, query_seconds = (statistics.median(x) for x in (walls, peaks, queries))
    print(f"deskhand analyze --json : {wall:6.2f} s wall, {peak:7.0f} MiB peak RSS (median)")
    print(f"duckdb query alone      : {query_seconds:6.2f} s (median)")
    print(f"duckdb process          : {statistics.median(duck_walls):6.2f} s wall (median)")
    ratio = wall / query_seconds
    print(
        f"ratio deskhand / duckdb query   : {ratio:.2f}x (target: within {TARGET_RATIO}x) -> "
        f"{'met' if ratio <= TARGET_RATIO else 'NOT met'}"
    )
    print(
        f"peak memory target      : under {TARGET_PEAK_MIB} MiB -> "
        f"{'met' if peak < TARGET_PEAK_MIB else 'NOT met'}"
    )

    document = json.loads(output)
    ours = {c["category"]: c["minutes"] for c in document["categories"]}
    theirs = {row[0] if row[0] is not None else "(no category)": row[2] for row in duck["rows"]}
    if not args.recategorize:
        worst = max(abs(ours.get(k, 0.0) - v) / max(v, 1.0) for k, v in theirs.items())
        print(f"per-category totals agree with DuckDB: max relative difference {worst:.2e}")
    print(
        f"deskhand: {document['totals']['tickets']:,} tickets, "
        f"{document['totals']['minutes'] / 60:,.0f} hours, {len(ours)} categories"
    )
    counts = ", ".join(f"{k} {v:,}" for k, v in document["data_quality"].items())
    print(f"deskhand data-quality counts: {counts}")


if __name__ == "__main__":
    main()
