"""A small client of the Chrome DevTools protocol over a pipe: headless
Chromium started with --remote-debugging-pipe reads commands (JSON, each
ended by a NUL byte) on its fd 3 and writes answers and events on its fd 4.
Standard library only; enough for the dashboard's browser test."""
import json
import os
import select
import shutil
import subprocess
import tempfile
import time

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# As root, in a sandbox with no network: no sandboxing of its own, no GPU,
# and none of the background connections this machine would refuse.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--mute-audio", "--window-size=1280,900",
         "--remote-debugging-pipe"]


class CdpError(Exception):
    pass


class Browser:
    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="slate-chromium-")
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()
        devnull = os.open(os.devnull, os.O_RDWR)
        self.pid = os.posix_spawn(
            CHROMIUM, [CHROMIUM, *FLAGS, "--user-data-dir=" + self.profile, "about:blank"],
            os.environ,
            file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1),
                          (os.POSIX_SPAWN_DUP2, devnull, 2),
                          (os.POSIX_SPAWN_DUP2, to_browser_r, 3),
                          (os.POSIX_SPAWN_DUP2, from_browser_w, 4)])
        for fd in (to_browser_r, from_browser_w, devnull):
            os.close(fd)
        self.buffer = b""
        self.next_id = 0
        self.events = []  # (method, params, session) not yet looked at
        self.session = None

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except (CdpError, OSError):
            pass
        for _ in range(50):
            done, _ = os.waitpid(self.pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.1)
        else:
            os.kill(self.pid, 9)
            os.waitpid(self.pid, 0)
        for fd in (self.to_browser, self.from_browser):
            os.close(fd)
        shutil.rmtree(self.profile, ignore_errors=True)

    def _read_message(self, deadline):
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CdpError("no answer from the browser in time")
            ready, _, _ = select.select([self.from_browser], [], [], left)
            if ready:
                chunk = os.read(self.from_browser, 1 << 20)
                if not chunk:
                    raise CdpError("the browser closed its pipe")
                self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method, params=None, session=True, timeout=30):
        """Sends a command (to the attached page unless session=False); its result."""
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self.to_browser, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            m = self._read_message(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise CdpError(f"{method}: {m['error']}")
                return m.get("result", {})
            if "method" in m:
                self.events.append((m["method"], m.get("params", {})))

    def open_page(self):
        """Attaches to the first page; console, errors and the log are recorded."""
        targets = self.call("Target.getTargets", session=False)["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self.session = self.call("Target.attachToTarget",
                                 {"targetId": page["targetId"], "flatten": True},
                                 session=False)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(domain + ".enable")

    def navigate(self, url):
        self.call("Page.navigate", {"url": url})

    def evaluate(self, expression, timeout=30):
        r = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                           "awaitPromise": True}, timeout=timeout)
        if "exceptionDetails" in r:
            raise CdpError(f"{expression}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def wait_for(self, expression, seconds=20, what=None):
        """Polls expression until it is truthy in JavaScript's terms."""
        deadline = time.monotonic() + seconds
        last = None
        while time.monotonic() < deadline:
            last = self.evaluate(f"Boolean({expression})")
            if last:
                return True
            time.sleep(0.1)
        raise CdpError(f"{what or expression} did not hold within {seconds} s (last: {last!r})")

    def screenshot(self, path):
        import base64
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def drain(self):
        """Reads what the browser sent so far without waiting."""
        while True:
            ready, _, _ = select.select([self.from_browser], [], [], 0)
            if not ready and b"\0" not in self.buffer:
                return
            m = self._read_message(time.monotonic() + 1)
            if "method" in m:
                self.events.append((m["method"], m.get("params", {})))

    def console_errors(self):
        """Errors the page logged or threw, as text."""
        self.drain()
        out = []
        for method, p in self.events:
            if method == "Runtime.exceptionThrown":
                out.append(json.dumps(p.get("exceptionDetails", {}))[:500])
            elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append(" ".join(str(a.get("value", a.get("description", "")))
                                    for a in p.get("args", [])))
            elif method == "Log.entryAdded" and p["entry"].get("level") == "error":
                out.append(p["entry"].get("text", "") + " " + p["entry"].get("url", ""))
        return out
