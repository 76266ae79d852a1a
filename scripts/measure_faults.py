#!/usr/bin/env python3
"""Measures how fast slate notices each kind of failure (docs/FAULTS.md).

Runs real groups with slate-launch (build/bin), injects a failure, and times
from the injection to the supervisor's log line that acts on it. Standard
library only. Log lines are stamped to the microsecond.
Usage: scripts/measure_faults.py [ROUNDS [CASE]]  (CASE: the row's number, from 0)
"""
import datetime
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "bin")
STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3,6}) ")


def members(pool, program):
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(program.encode()) and pool.encode() in b" ".join(argv):
            out.append(int(pid))
    return out


def first_line_after(path, needles, t0, timeout=30):
    """Seconds from t0 to the first log line holding any needle, stamped after t0."""
    end = time.time() + timeout
    while time.time() < end:
        with open(path) as f:
            for line in f:
                m = STAMP.match(line)
                if m and any(n in line for n in needles):
                    t = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp()
                    if t >= t0 - 0.002:
                        return t - t0
        time.sleep(0.01)
    return None


def run_case(name, inject, needle, extra, rounds):
    times = []
    for r in range(rounds):
        pool = f"faults-{os.getpid()}-{name}-{r}"
        with tempfile.TemporaryDirectory() as tmp:
            req = os.path.join(tmp, "req.jsonl")
            with open(req, "w") as f:
                for _ in range(40):
                    f.write(json.dumps({"payload": {"ms": 500}}) + "\n")
            log = os.path.join(tmp, "log")
            with open(log, "w") as err:
                launcher = subprocess.Popen(
                    [os.path.join(BIN, "slate-launch"), "run", "--pool", pool, "--workers", "3",
                     "--handler", "sleep", "--log-level", "info", *extra, req],
                    stdout=subprocess.DEVNULL, stderr=err)
                time.sleep(1.0)
                t0 = inject(pool)
                dt = first_line_after(log, needle, t0)
                launcher.send_signal(signal.SIGINT)
                launcher.wait(timeout=30)
                for program in ("slate-worker", "slate-supervisor"):  # a stopped one, if any
                    for p in members(pool, program):
                        os.kill(p, signal.SIGCONT)
            if dt is not None:
                times.append(dt * 1000)
    return times


def kill_one(program, sig):
    def inject(pool):
        pid = members(pool, program)[0]
        t0 = time.time()
        os.kill(pid, sig)
        return t0
    return inject


def kill_leader(sig):
    """The supervisor holding the pool's lead, from slate-dump's stats, at a
    random point of its renewal cycle (it renews every half lease)."""
    def inject(pool):
        time.sleep(random.uniform(0, 2.5))
        stats = subprocess.run([os.path.join(BIN, "slate-dump"), "--pool", pool, "--stats",
                                "--format", "jsonl"], capture_output=True, text=True, check=True)
        holder = json.loads(stats.stdout)["lead"]["holder"]
        pid = int(holder.rsplit("-", 1)[1])
        t0 = time.time()
        os.kill(pid, sig)
        return t0
    return inject


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    only = int(sys.argv[2]) if len(sys.argv) > 2 else None
    cases = [
        # The launcher restarts a killed worker at once; its replacement or the
        # supervisor, whichever is first, hands the dead one's tasks back.
        ("worker killed (SIGKILL)", kill_one("slate-worker", signal.SIGKILL),
         ("is gone", "taking over the name"), []),
        ("worker hung (SIGSTOP), --hung-after-ms 1000", kill_one("slate-worker", signal.SIGSTOP),
         ("is hung",), ["--hung-after-ms", "1000"]),
        ("lease expired (SIGSTOP), --lease-ms 1000, hung detection off",
         kill_one("slate-worker", signal.SIGSTOP), ("expired",),
         ["--lease-ms", "1000", "--hung-after-ms", "600000"]),
        ("supervisor killed: replaced and resumed", kill_one("slate-supervisor", signal.SIGKILL),
         ("adopting the backlog",), []),
        # A standby waits on the leader's pidfd: a death wakes it at once.
        ("leader killed (SIGKILL), --supervisors 2: the standby takes over",
         kill_leader(signal.SIGKILL), ("(took over)",), ["--supervisors", "2"]),
        # A stopped leader is alive: its lease must run out first.
        ("leader stopped (SIGSTOP), --supervisors 2 --lead-lease-ms 1000",
         kill_leader(signal.SIGSTOP), ("(took over)",),
         ["--supervisors", "2", "--lead-lease-ms", "1000"]),
        ("leader stopped (SIGSTOP), --supervisors 2, default lease 5000 ms",
         kill_leader(signal.SIGSTOP), ("(took over)",), ["--supervisors", "2"]),
    ]
    print(f"| failure | detected by | median ms | max ms | runs |")
    print(f"|---|---|---|---|---|")
    for i, (name, inject, needles, extra) in enumerate(cases):
        if only is not None and i != only:
            continue
        t = run_case(str(i), inject, needles, extra, rounds)
        seen = " or ".join(f"'{n}'" for n in needles)
        if t:
            print(f"| {name} | log {seen} | {statistics.median(t):.1f} | {max(t):.1f} | {len(t)} |")
        else:
            print(f"| {name} | log {seen} | not seen | | 0 |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
