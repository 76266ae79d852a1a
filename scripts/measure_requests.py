#!/usr/bin/env python3
"""Measures requests side by side on one service group (docs/PERFORMANCE.md).

One real group (slate-launch start, build/bin): 4 workers, the built-in
sleep handler. Each try submits a long request (32 tasks of 250 ms: 2 s
of the whole group), then, 0.5 s later, a short one (4 tasks of 100 ms),
at the long one's priority or above it. Reported: the short request's
wall time from its submission to its result (the submit command's own
time), and the long one's. Were requests run one after another, the short
one would wait out the long one's remaining 1.5 s.
Standard library only.
Usage: scripts/measure_requests.py [TRIES]   (SLATE_BIN: another build's bin)
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAUNCH = os.path.join(os.environ.get("SLATE_BIN", os.path.join(ROOT, "build", "bin")),
                      "slate-launch")


def write(path, tasks, ms):
    with open(path, "w") as f:
        for _ in range(tasks):
            f.write(json.dumps({"payload": {"ms": ms}}) + "\n")
    return path


def submit(pool, path, priority):
    return [LAUNCH, "submit", "--pool", pool, "--priority", str(priority), path]


def one_try(pool, long_path, short_path, priority):
    long_req = subprocess.Popen(submit(pool, long_path, 0), stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)
    start = time.monotonic()
    short = subprocess.run(submit(pool, short_path, priority), capture_output=True, text=True,
                           timeout=120)
    short_s = time.monotonic() - start
    long_out, _ = long_req.communicate(timeout=120)
    if short.returncode != 0 or long_req.returncode != 0:
        sys.exit(f"submit failed: {short.stderr[-2000:]}")
    long_doc, short_doc = json.loads(long_out), json.loads(short.stdout)
    for doc in (long_doc, short_doc):
        if doc["summary"]["done"] != doc["summary"]["tasks"]:
            sys.exit(f"a request is not whole: {doc['summary']}")
    return short_s * 1000, long_doc["summary"]["wall_ms"], long_doc["summary"]["preempted"]


def main():
    tries = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    pool = f"requests-{os.getpid()}"
    started = subprocess.run([LAUNCH, "start", "--pool", pool, "--workers", "4",
                              "--handler", "sleep"], capture_output=True, text=True)
    if started.returncode != 0:
        sys.exit(f"slate-launch start failed: {started.stderr}")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            long_path = write(os.path.join(tmp, "long.jsonl"), 32, 250)
            short_path = write(os.path.join(tmp, "short.jsonl"), 4, 100)
            for priority in (0, 50):
                runs = [one_try(pool, long_path, short_path, priority) for _ in range(tries)]
                shorts = [r[0] for r in runs]
                longs = [r[1] for r in runs]
                preempted = sum(r[2] for r in runs)
                print(f"short request at priority {priority:>2}, {tries} tries: "
                      f"p50 {statistics.median(shorts):.0f} ms, max {max(shorts):.0f} ms; "
                      f"long request p50 {statistics.median(longs):.0f} ms; "
                      f"{preempted} preemptions")
    finally:
        subprocess.run([LAUNCH, "stop", "--pool", pool], capture_output=True)


if __name__ == "__main__":
    main()
