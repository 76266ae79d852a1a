"""Fixtures of the dashboard's tests: a real group started with
`slate-launch start --dashboard`, its address and token read as a user
would (from `slate-launch status` and the token file it names)."""
import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.request
import uuid

import pytest


def launch(*args, timeout=60):
    return subprocess.run(["slate-launch", *args], capture_output=True, text=True,
                          timeout=timeout)


class Dashboard:
    def __init__(self, pool, tmp_path):
        self.pool = pool
        self.tmp = tmp_path
        self.url = None
        self.token = None

    def start(self, *args):
        r = launch("start", "--pool", self.pool, "--dashboard", *args)
        assert r.returncode == 0, r.stderr
        assert "dashboard at http://127.0.0.1:" in r.stdout, r.stdout
        status = launch("status", "--pool", self.pool)
        m = re.search(r"^DASHBOARD (http://\S+) \(token in (\S+)\)$", status.stdout, re.M)
        assert m, status.stdout
        self.url, token_file = m.group(1), m.group(2)
        assert os.stat(token_file).st_mode & 0o777 == 0o600
        with open(token_file) as f:
            self.token = f.read().strip()
        assert len(self.token) == 64

    def request(self, name, lines):
        path = self.tmp / name
        path.write_text("".join(json.dumps(line) + "\n" for line in lines))
        return str(path)

    def submit(self, path, *args):
        """The request's id; it runs on."""
        r = launch("submit", "--pool", self.pool, "--no-wait", *args, path)
        assert r.returncode == 0, r.stderr
        return r.stdout.strip()

    def http(self, method, path, body=None, headers=None, token=None):
        """(status, parsed JSON or text) of one request to the dashboard."""
        data = None if body is None else (body if isinstance(body, bytes) else
                                          json.dumps(body).encode())
        req = urllib.request.Request(self.url.rstrip("/") + path, data=data, method=method)
        if body is not None and not isinstance(body, bytes):
            req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", "Bearer " + token)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=30) as res:
                status, text, ctype = res.status, res.read().decode(), res.headers["Content-Type"]
        except urllib.error.HTTPError as e:
            status, text, ctype = e.code, e.read().decode(), e.headers["Content-Type"]
        return status, (json.loads(text) if ctype and "json" in ctype else text)

    def get(self, path):
        status, body = self.http("GET", path)
        assert status == 200, (path, status, body)
        return body

    def stop(self):
        launch("stop", "--pool", self.pool)


@pytest.fixture
def dashboard(tmp_path):
    d = Dashboard("dash-" + uuid.uuid4().hex[:10], tmp_path)
    yield d
    d.stop()


def eventually(check, seconds=30, what="the condition"):
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} did not hold within {seconds} s")
