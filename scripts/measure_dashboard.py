#!/usr/bin/env python3
"""What an open dashboard costs the group it watches (docs/PERFORMANCE.md).

Each round starts a service group twice, one way after the other (the
order alternating between rounds): plain, and with --dashboard and a live
page on it, that is its event stream read as it comes and the tasks page
fetched every second (what a browser showing the tasks page does). Each
time, one request of N echo tasks on 2 workers is submitted with
slate.Client and timed to its result. Reported: the median wall of each
way, their ratio, and the CPU the dashboard itself used per second of the
run (its /proc stat), which is what it takes from the group.
Usage: scripts/measure_dashboard.py [--rounds R] [--tasks N]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("SLATE_BIN", os.path.join(ROOT, "build", "bin"))
LAUNCH = os.path.join(BIN, "slate-launch")
sys.path.insert(0, os.path.join(os.path.dirname(BIN), "python"))
import slate  # noqa: E402


class LivePage:
    """The event stream read as it comes, and /api/tasks fetched each second."""

    def __init__(self, url):
        self.url = url.rstrip("/")
        self.stop = threading.Event()
        self.events = 0
        self.fetches = 0
        self.threads = [threading.Thread(target=self.stream, daemon=True),
                        threading.Thread(target=self.poll, daemon=True)]
        for t in self.threads:
            t.start()

    def stream(self):
        with urllib.request.urlopen(self.url + "/api/events", timeout=30) as res:
            while not self.stop.is_set():
                line = res.readline()
                if not line:
                    return
                self.events += line.startswith(b"event:")

    def poll(self):
        while not self.stop.wait(1.0):
            with urllib.request.urlopen(self.url + "/api/tasks?per_page=50&sort=id&desc=1",
                                        timeout=30) as res:
                json.load(res)
                self.fetches += 1

    def close(self):
        self.stop.set()


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def dashboard_pid(pool):
    out = subprocess.run(["pgrep", "-f", f"slate-dashboard --pool {pool} "],
                         capture_output=True, text=True).stdout.split()
    return int(out[0]) if out else None


def one_run(path, tasks, dashboard):
    pool = f"measure-dash-{os.getpid()}"
    args = [LAUNCH, "start", "--pool", pool, "--workers", "2", "--handler", "echo"]
    if dashboard:
        args.append("--dashboard")
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"measure_dashboard: cannot start a group: {r.stderr}")
    page = None
    try:
        if dashboard:
            url = re.search(r"dashboard at (http://\S+?)#", r.stdout).group(1)
            page = LivePage(url)
        time.sleep(1.5)  # settled (and the page open and streaming) before the work starts
        pid = dashboard_pid(pool) if dashboard else None
        cpu0 = cpu_seconds(pid) if pid else 0
        with slate.Client(pool) as client:
            t0 = time.monotonic()
            doc = client.submit(path)
            wall = time.monotonic() - t0
        cpu = (cpu_seconds(pid) - cpu0) / wall if pid else 0
        if doc["summary"]["done"] != tasks:
            sys.exit(f"measure_dashboard: {doc['summary']}")
        if page and (page.events < 1 or page.fetches < 1):
            sys.exit("measure_dashboard: the page saw no event or fetched nothing")
        return wall, (page.events if page else 0), cpu
    finally:
        if page:
            page.close()
        subprocess.run([LAUNCH, "stop", "--pool", pool], capture_output=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--tasks", type=int, default=100_000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="measure-dash-") as tmp:
        path = os.path.join(tmp, "r.jsonl")
        with open(path, "w") as f:
            f.write("".join(json.dumps({"payload": {"n": i}}) + "\n" for i in range(a.tasks)))
        walls = {False: [], True: []}
        events, cpus = [], []
        for r in range(a.rounds):
            for dashboard in ((False, True) if r % 2 == 0 else (True, False)):
                wall, n, cpu = one_run(path, a.tasks, dashboard)
                walls[dashboard].append(wall)
                if dashboard:
                    events.append(n)
                    cpus.append(cpu)
                print(f"round {r + 1}: {'with' if dashboard else 'without'} the dashboard "
                      f"{wall:.2f} s", file=sys.stderr)
    plain, watched = statistics.median(walls[False]), statistics.median(walls[True])
    print(f"{a.tasks:,} echo tasks on 2 workers, {a.rounds} rounds alternating, median:")
    print(f"  without the dashboard        {plain:.2f} s  ({a.tasks / plain:,.0f} tasks/s) "
          f"range {min(walls[False]):.2f}-{max(walls[False]):.2f}")
    print(f"  with it open and live        {watched:.2f} s  ({a.tasks / watched:,.0f} tasks/s) "
          f"range {min(walls[True]):.2f}-{max(walls[True]):.2f}; "
          f"{statistics.median(events)} events a run")
    print(f"  throughput with / without    {plain / watched:.3f} (aim: at least 0.95)")
    print(f"  the dashboard's own CPU      {statistics.median(cpus) * 100:.1f} % of one core "
          f"while the request ran (range {min(cpus) * 100:.1f}-{max(cpus) * 100:.1f})")


if __name__ == "__main__":
    main()
