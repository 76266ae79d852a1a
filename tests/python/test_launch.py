"""slate-launch --python-worker: groups whose workers are Python functions."""
import json
import os
import signal
import subprocess
import time

from conftest import HERE, launch, wait_for


def members(pool):
    out = launch("status", "--pool", pool).stdout
    return {line.split()[0]: int(line.split()[2]) for line in out.splitlines()
            if line.startswith("worker-")}


def test_run_serves_a_request_with_python_workers(group):
    path = group.request("r.jsonl", [{"payload": {"n": n}} for n in range(6)])
    r = subprocess.run(["slate-launch", "run", "--pool", group.pool, "--workers", "2",
                        "--python-worker", "agents:double", path],
                       capture_output=True, text=True, timeout=60, cwd=HERE)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert [t["result"]["n"] for t in doc["tasks"]] == [0, 2, 4, 6, 8, 10]
    assert {t["worker"] for t in doc["tasks"]} == {"worker-1", "worker-2"}


def test_a_killed_python_worker_is_restarted_and_the_group_goes_on(group):
    r = subprocess.run(["slate-launch", "start", "--pool", group.pool, "--workers", "2",
                        "--python-worker", "agents:double"],
                       capture_output=True, text=True, timeout=60, cwd=HERE)
    assert r.returncode == 0, r.stderr
    wait_for(lambda: len(members(group.pool)) == 2)
    victim = members(group.pool)["worker-1"]
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: members(group.pool).get("worker-1", victim) != victim)
    doc = group.submit(group.request("r.jsonl", [{"payload": {"n": n}} for n in range(4)]))
    assert [t["result"]["n"] for t in doc["tasks"]] == [0, 2, 4, 6]


def test_a_function_that_cannot_be_served_stops_nothing_from_starting(group):
    for spec, why in [("agents:nofn", "has no attribute 'nofn'"),
                      ("nosuch:fn", "No module named 'nosuch'"),
                      ("nocolon", "expected MODULE:FUNCTION")]:
        r = subprocess.run(["slate-launch", "start", "--pool", group.pool,
                            "--python-worker", spec],
                           capture_output=True, text=True, timeout=60, cwd=HERE)
        assert r.returncode == 2
        assert why in r.stderr
        assert not os.path.exists("/dev/shm/slate." + group.pool)


def test_python_workers_serve_a_team_of_a_tree(group):
    tree = str(group.tmp / "tree.json")
    with open(tree, "w") as f:
        json.dump({"workers": [{"handler": "echo"}],
                   "children": [{"capability": "py",
                                 "workers": [{"count": 2, "python": "agents:double"}]}]}, f)
    subtasks = [{"payload": {"n": n}} for n in range(4)]
    path = group.request("t.jsonl", [{"payload": {"subtasks": subtasks}, "requires": "py"},
                                     {"payload": "top"}])
    r = subprocess.run(["slate-launch", "run", "--pool", group.pool, "--group", tree, path],
                       capture_output=True, text=True, timeout=60, cwd=HERE)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    sub = doc["tasks"][0]["result"]
    assert sub["team"] == "py"
    assert [item["result"]["n"] for item in sub["results"]] == [0, 2, 4, 6]
    assert doc["tasks"][1]["result"] == "top"
