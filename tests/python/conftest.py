"""Fixtures of the Python tests: a real group (slate-launch start) on a pool
of the test's own, and Python workers started as processes of their own.
ctest runs them with build/bin on PATH and build/python on PYTHONPATH."""
import json
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


def launch(*args, timeout=60):
    return subprocess.run(["slate-launch", *args], capture_output=True, text=True,
                          timeout=timeout)


class Group:
    """A service group; stopped, with every worker started here, at the end."""

    def __init__(self, pool, tmp_path):
        self.pool = pool
        self.tmp = tmp_path
        self.workers = []

    def start(self, *args):
        r = launch("start", "--pool", self.pool, "--workers", "1", *args)
        assert r.returncode == 0, r.stderr

    def python_worker(self, function, name, capabilities=("py",)):
        """A process serving agents.<function>; its stderr goes to a file."""
        code = ("import sys; sys.path.insert(0, %r); import agents, slate; "
                "slate.serve(agents.%s, pool=%r, name=%r, capabilities=%r); "
                "print('left cleanly')" % (HERE, function, self.pool, name, list(capabilities)))
        err = open(self.tmp / (name + ".log"), "w")
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                                stderr=err, text=True)
        self.workers.append(proc)
        return proc

    def request(self, name, lines):
        path = self.tmp / name
        path.write_text("".join(json.dumps(line) + "\n" for line in lines))
        return str(path)

    def submit(self, path, *args):
        """Waits for the request's result document."""
        r = launch("submit", "--pool", self.pool, *args, path, timeout=120)
        assert r.returncode in (0, 3), r.stderr
        return json.loads(r.stdout)

    def submit_in_background(self, path, *args):
        return subprocess.Popen(["slate-launch", "submit", "--pool", self.pool, *args, path],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def stop(self):
        for proc in self.workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.workers:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        launch("stop", "--pool", self.pool)


@pytest.fixture
def group(tmp_path):
    g = Group("py-" + uuid.uuid4().hex[:12], tmp_path)
    yield g
    g.stop()


def wait_for(ready, seconds=20):
    until = time.monotonic() + seconds
    while not ready():
        assert time.monotonic() < until, "timed out"
        time.sleep(0.02)
