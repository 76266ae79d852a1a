"""The coordinator: watches progress and flags a task assigned to two
workers or done twice; prints one JSON line per change, then a summary.

    coordinator.py --pool P
"""
import argparse
import json
import sys
import time
from collections import Counter

from common import pool


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--pool", required=True)
    p.add_argument("--timeout-s", type=float, default=60)
    a = p.parse_args()
    shared = pool(a.pool)
    last, until = None, time.monotonic() + a.timeout_s
    while time.monotonic() < until:
        everything = shared.read_relevant(agent_id="coordinator", exclude_own=False)
        tasks = [i for i in everything if i["segment"] == "tasks"]
        results = [i for i in everything if i["segment"] == "results"]
        assigned = Counter(i["metadata"]["task_id"] for i in tasks)
        completed = Counter(i["metadata"]["task_id"] for i in results)
        progress = {
            "pending_tasks": len(set(assigned) - set(completed)),
            "completed_tasks": len(completed),
            "active_workers": sorted({i["agent_id"] for i in results}),
            "duplicate_assignments": sorted(t for t, n in assigned.items() if n > 1),
            "duplicate_results": sorted(t for t, n in completed.items() if n > 1),
        }
        if progress != last:
            print(json.dumps(progress), flush=True)
            last = progress
        if any(i["segment"] == "progress" and "done" in i["tags"] for i in everything):
            return 1 if progress["duplicate_assignments"] or progress["duplicate_results"] else 0
        time.sleep(0.05)
    return 1


if __name__ == "__main__":
    sys.exit(main())
