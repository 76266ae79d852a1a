"""slate.serve: a Python function as a worker of a real group."""
import json
import os
import signal

import pytest
import slate

from conftest import wait_for


def test_a_function_serves_its_tasks_and_an_exception_fails_one(group):
    group.start()
    worker = group.python_worker("double", "py-1")
    doc = group.submit(group.request("r.jsonl", [
        {"payload": {"n": 1}, "requires": "py"},
        {"payload": {"n": 2}, "requires": "py"},
        {"payload": {"n": 3, "boom": True}, "requires": "py", "max_retries": 1},
    ]))
    tasks = doc["tasks"]
    assert [t["status"] for t in tasks] == ["done", "done", "dead_lettered"]
    assert tasks[0]["result"] == {"n": 2, "attempt": 1}
    assert tasks[1]["result"] == {"n": 4, "attempt": 1}
    assert tasks[0]["worker"] == "py-1"
    # The exception is a failed attempt with its traceback, retried, then
    # dead-lettered.
    assert tasks[2]["attempts"] == 2
    assert "Traceback (most recent call last)" in tasks[2]["error"]
    assert "ValueError: boom 3" in tasks[2]["error"]
    # SIGTERM: it leaves the pool and serve returns.
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=10) == 0
    assert worker.stdout.read() == "left cleanly\n"


def test_a_result_that_is_no_payload_is_a_failed_attempt(group):
    group.start()
    group.python_worker("not_a_payload", "py-1")
    doc = group.submit(group.request("r.jsonl", [
        {"payload": {}, "requires": "py", "max_retries": 0}]))
    task = doc["tasks"][0]
    assert task["status"] == "dead_lettered"
    assert "the result is not a payload" in task["error"]
    assert "object" in task["error"]


def test_a_checkpoint_reaches_the_attempt_after_a_sigkill(group, tmp_path):
    group.start()
    first = group.python_worker("count", "py-1")
    marker = tmp_path / "at5"
    req = group.submit_in_background(group.request("r.jsonl", [
        {"payload": {"to": 10, "mark_at": 5, "marker": str(marker)}, "requires": "py"}]))
    wait_for(marker.exists)
    first.kill()
    first.wait()
    group.python_worker("count", "py-2")
    out, err = req.communicate(timeout=60)
    assert req.returncode == 0, err
    task = json.loads(out)["tasks"][0]
    assert task["status"] == "done"
    assert task["attempts"] == 2
    assert task["result"] == {"counted": 10, "resumed_from": 5, "attempt": 2}


def test_a_preempted_task_is_told_and_goes_on_from_its_checkpoint(group, tmp_path):
    # One Python worker holding one task at a time: the urgent request
    # preempts the long one.
    group.start("--max-pending", "1")
    group.python_worker("count", "py-1")
    marker = tmp_path / "at5"
    long_req = group.submit_in_background(group.request("long.jsonl", [
        {"payload": {"to": 30, "mark_at": 5, "marker": str(marker), "hold": False},
         "requires": "py"}]))
    wait_for(marker.exists)
    urgent = group.submit(group.request("urgent.jsonl", [
        {"payload": {"to": 2}, "requires": "py"}]), "--priority", "50")
    assert urgent["tasks"][0]["status"] == "done"
    out, err = long_req.communicate(timeout=60)
    assert long_req.returncode == 0, err
    doc = json.loads(out)
    task = doc["tasks"][0]
    assert doc["summary"]["preempted"] == 1
    assert doc["summary"]["retries"] == 0
    assert task["status"] == "done"
    assert task["result"]["counted"] == 30
    assert task["result"]["resumed_from"] >= 5, "the preempted attempt's checkpoints were lost"


def test_serve_says_what_is_wrong():
    with pytest.raises(TypeError, match="callable"):
        slate.serve(42, pool="anything")
    with pytest.raises(slate.Error, match="status 1"):
        slate.serve(lambda task: None, pool="no-such-pool-" + str(os.getpid()))
