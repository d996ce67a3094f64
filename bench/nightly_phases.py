#!/usr/bin/env python3
"""bench/nightly_phases.py CRON_LOG — where each nightly run's time went, from sfp-cron's log
(LOG_LEVEL=info; bench/nightly.sh --logs DIR keeps it as DIR/cron.log).

Per run (cron_log id): total, phase 1 (fetch: wall, and each dataset's own fetch time — three
datasets are fetched at a time), phase 2 (one transaction: merges per dataset, derived steps,
index builds per rebuilt table, the swap, commit)."""
import json
import sys
from datetime import datetime


def ts(rec):
    return datetime.strptime(rec["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()


runs, cur = [], None
for line in open(sys.argv[1], errors="replace"):
    try:
        rec = json.loads(line)
    except ValueError:
        continue
    msg = rec.get("msg", "")
    if msg == "cron job started" and rec.get("job") == "nightly":
        cur = {"id": rec.get("log_id"), "t0": ts(rec), "fetch": [], "merge": [], "derived": [], "index": [],
               "fetch_end": None, "end": None, "ok": None, "swap": None, "timings": None}
        runs.append(cur)
    if cur is None:
        continue
    if msg == "nightly dataset fetched":
        cur["fetch"].append((rec["name"], rec.get("fetched", 0), rec.get("seconds")))
        cur["fetch_end"] = ts(rec)
    elif msg == "nightly dataset merged":
        cur["merge"].append((rec["name"], rec.get("into"), rec.get("seconds")))
    elif msg == "nightly derived step":
        cur["derived"].append((rec["step"], rec["seconds"]))
    elif msg == "nightly: rebuild indexes built":
        cur["index"].append((rec["table"], rec["seconds"]))
    elif msg == "nightly: rebuilt tables swapped in":
        cur["swap"] = rec["seconds"]
    elif msg == "nightly apply timings":
        cur["timings"] = rec
    elif msg in ("cron job succeeded", "cron job failed") and rec.get("job") == "nightly":
        cur["end"], cur["ok"] = ts(rec), msg == "cron job succeeded"

for r in runs:
    total = (r["end"] or r["t0"]) - r["t0"]
    fetch = (r["fetch_end"] or r["t0"]) - r["t0"]
    print(f"run {r['id']}: total {total:.0f} s ({'ok' if r['ok'] else 'FAILED'}); fetch phase {fetch:.0f} s, "
          f"apply transaction {total - fetch:.0f} s")
    for name, n, s in r["fetch"]:
        if n:
            print(f"  fetch   {name:<22} {n:>9} rows {s if s is None else round(s)} s")
    for name, into, s in r["merge"]:
        if s and s >= 0.5:
            print(f"  merge   {name:<22} into {into:<26} {s:6.0f} s")
    t = r["timings"]
    if t:
        print(f"  merges {t['merges_s']:.0f} s, derived {t['derived_s']:.0f} s, indexes + swap "
              f"{t['indexes_and_swap_s']:.0f} s, commit {t['commit_s']:.1f} s")
    for step, s in r["derived"]:
        if s >= 0.5:
            print(f"  derived {step:<34} {s:6.0f} s")
    for table, s in r["index"]:
        print(f"  indexes {table:<22} {s:6.0f} s")
    if r["swap"] is not None:
        print(f"  swap (renames, views, drop old) {r['swap']:.2f} s")
