"""examples/python: Kaizen's supervisor-worker example as separate
processes over one slate pool."""
import json
import os
import subprocess
import sys

from conftest import HERE

EXAMPLE = os.path.join(HERE, "..", "..", "examples", "python", "supervisor_worker", "run.sh")


def test_the_supervisor_worker_example_runs_each_task_once_round_robin():
    r = subprocess.run([EXAMPLE, "Summarize 7 reviews", "3", "7"], capture_output=True,
                       text=True, timeout=120, env=dict(os.environ, SLATE_PYTHON=sys.executable))
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert (doc["tasks"], doc["completed"]) == (7, 7)
    assert [x["worker"] for x in doc["results"]] == [f"worker_{i % 3 + 1}" for i in range(7)]
    assert all(x["result"].endswith(f"Part {i + 1} of 7: Summarize 7 reviews")
               for i, x in enumerate(doc["results"]))
    assert doc["final_result"].startswith("7 parts: done [")
    progress = [json.loads(line) for line in r.stderr.splitlines() if line.startswith("{")]
    assert progress[-1]["completed_tasks"] == 7
    assert progress[-1]["duplicate_assignments"] == [] and progress[-1]["duplicate_results"] == []
    assert not any(f.startswith("slate.kaizen-example-") for f in os.listdir("/dev/shm"))
