#!/usr/bin/env python3
"""Measures how soon urgent work starts on a busy group (docs/PERFORMANCE.md).

One real group (slate-launch run, build/bin): 4 workers busy with 10-second
low-priority tasks, and a fifth that only runs "gate" steps. Each try is a
high-priority step that becomes ready when its gate finishes (0.5 s after
the try before it); no worker is free, so it preempts a low task. Its
latency is from the gate's last instant (the gate prints the time as it
exits) to the urgent step's first (it prints the time as it starts): the
gate's exit and report, the supervisor unblocking the step, the preemption,
the low task's SIGTERM and exit, the claim and the start of the command.
Standard library only.
Usage: scripts/measure_preemption.py [TRIES] [--preempt-margin N]
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "bin")
# Each step reads its plan envelope, which names its payload.
COMMAND = ('read p; case "$p" in *\'"low"\'*) sleep 10; echo \'"low"\';; '
           '*\'"gate"\'*) sleep 0.5; date +%s%N;; *\'"urgent"\'*) date +%s%N;; esac')


def plan(tries):
    lines = [{"id": f"low{i}", "payload": "low", "requires": "main"} for i in range(4)]
    for k in range(tries):
        gate = {"id": f"gate{k}", "payload": "gate", "requires": "gate", "priority": 100}
        if k > 0:
            gate["depends_on"] = [f"urgent{k - 1}"]
        lines.append(gate)
        lines.append({"id": f"urgent{k}", "payload": "urgent", "requires": "main",
                      "priority": 100, "depends_on": [f"gate{k}"]})
    return lines


def main():
    args = sys.argv[1:]
    margin = "1"
    if "--preempt-margin" in args:
        at = args.index("--preempt-margin")
        margin = args[at + 1]
        del args[at:at + 2]
    args = [a for a in args if a != "-v"]
    tries = int(args[0]) if args else 20
    with tempfile.TemporaryDirectory() as tmp:
        req = os.path.join(tmp, "preempt.jsonl")
        with open(req, "w") as f:
            for line in plan(tries):
                f.write(json.dumps(line) + "\n")
        run = subprocess.run(
            [os.path.join(BIN, "slate-launch"), "run", "--pool", f"preempt-{os.getpid()}",
             "--workers", "4", "--capability", "main", "--worker-group", "1:gate",
             "--max-pending", "1", "--preempt-margin", margin, "--shell", "--exec", COMMAND, req],
            capture_output=True, text=True, timeout=600)
    if run.returncode != 0:
        sys.exit(f"slate-launch failed ({run.returncode}): {run.stderr[-2000:]}")
    tasks = {t["id"]: t for t in json.loads(run.stdout)["tasks"]}
    waits = [(tasks[f"urgent{k}"]["result"] - tasks[f"gate{k}"]["result"]) / 1e6
             for k in range(tries)]
    preempted = json.loads(run.stdout)["summary"].get("preempted", 0)
    print(f"urgent step start after ready, {tries} tries, preempt margin {margin}: "
          f"p50 {statistics.median(waits):.1f} ms, max {max(waits):.1f} ms, "
          f"min {min(waits):.1f} ms; {preempted} preemptions")
    if "-v" in sys.argv:
        print(" ".join(f"{w:.1f}" for w in waits))


if __name__ == "__main__":
    main()
