"""Worker functions the Python tests serve (test_worker.py)."""
import os
import time


def double(task):
    """n doubled; a payload with "boom" raises."""
    if task.payload.get("boom"):
        raise ValueError("boom " + str(task.payload["n"]))
    return {"n": task.payload["n"] * 2, "attempt": task.attempt}


def not_a_payload(task):
    """Returns what no payload can hold."""
    return {"when": object()}


def count(task):
    """Counts to payload["to"], 50 ms a step, saving a checkpoint at each;
    goes on from the last one. At payload["mark_at"] on its first attempt it
    creates the file payload["marker"] and waits to be killed or stopped.
    Given up (task.cancelled) it returns at once."""
    p = task.payload
    start = task.resume or 0
    for i in range(start, p["to"]):
        if task.cancelled:
            return None
        time.sleep(0.05)
        task.checkpoint(i + 1)
        if task.attempt == 1 and i + 1 == p.get("mark_at"):
            with open(p["marker"], "w"):
                pass
            while not task.cancelled and p.get("hold", True):
                time.sleep(0.01)
            if task.cancelled:
                return None
    return {"counted": p["to"], "resumed_from": start, "attempt": task.attempt}


def pid_of_worker(task):
    return {"pid": os.getpid()}
