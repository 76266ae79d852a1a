"""The supervisor: breaks a request into tasks, writes them round-robin to
the workers, waits for every result and aggregates them (prints JSON).

    supervisor.py --pool P --workers worker_1,worker_2 --tasks N REQUEST
"""
import argparse
import json
import sys
import time
import uuid

from common import StandInModel, pool


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--pool", required=True)
    p.add_argument("--workers", required=True)
    p.add_argument("--tasks", type=int, default=3)
    p.add_argument("--timeout-s", type=float, default=60)
    p.add_argument("request")
    a = p.parse_args()
    shared, model = pool(a.pool), StandInModel()
    workers = a.workers.split(",")
    request_id = "request_" + uuid.uuid4().hex[:8]
    tasks = []
    for i, text in enumerate(model.decompose(a.request, a.tasks)):
        task = {"task_id": f"{request_id}_task_{i}", "worker": workers[i % len(workers)],
                "content": text}
        tasks.append(task)
        shared.write_insight({"agent_id": "supervisor", "content": json.dumps(task),
                              "tags": ["task", "pending", request_id, task["worker"]],
                              "importance": 0.8, "segment": "tasks",
                              "metadata": {"task_id": task["task_id"]}})
    until = time.monotonic() + a.timeout_s
    while True:
        results = shared.read_relevant(agent_id="supervisor", tags=[request_id],
                                       segments=["results"])
        by_task = {r["metadata"]["task_id"]: r for r in results}
        if len(by_task) >= len(tasks) or time.monotonic() > until:
            break
        time.sleep(0.02)
    ordered = [by_task[t["task_id"]] for t in tasks if t["task_id"] in by_task]
    final = {"request_id": request_id, "request": a.request,
             "tasks": len(tasks), "completed": len(ordered),
             "results": [{"task_id": r["metadata"]["task_id"], "worker": r["agent_id"],
                          "result": r["content"]} for r in ordered],
             "final_result": model.synthesize([r["content"] for r in ordered])}
    shared.write_insight({"agent_id": "supervisor", "content": "done",
                          "tags": ["done", request_id], "importance": 0.9,
                          "segment": "progress"})
    print(json.dumps(final, indent=2))
    return 0 if len(ordered) == len(tasks) else 1


if __name__ == "__main__":
    sys.exit(main())
