"""A worker: reads the tasks assigned to it, runs each once, writes its
result; stops when the supervisor says the request is done.

    worker.py --pool P --id worker_1
"""
import argparse
import json
import sys
import time

from common import StandInModel, pool


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--pool", required=True)
    p.add_argument("--id", required=True)
    p.add_argument("--timeout-s", type=float, default=60)
    a = p.parse_args()
    shared, model = pool(a.pool), StandInModel()
    done, until = set(), time.monotonic() + a.timeout_s
    while time.monotonic() < until:
        for insight in shared.read_relevant(agent_id=a.id, tags=[a.id], segments=["tasks"]):
            task = json.loads(insight["content"])
            if task["task_id"] in done:
                continue
            request_id = insight["tags"][2]
            shared.write_insight({"agent_id": a.id, "content": model.execute(task["content"]),
                                  "tags": ["result", "completed", request_id],
                                  "importance": 0.8, "segment": "results",
                                  "metadata": {"task_id": task["task_id"]}})
            done.add(task["task_id"])
        if shared.read_relevant(tags=["done"], segments=["progress"]):
            return 0
        time.sleep(0.02)
    return 1


if __name__ == "__main__":
    sys.exit(main())
