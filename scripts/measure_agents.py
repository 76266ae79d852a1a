#!/usr/bin/env python3
"""Measures how Python agents run under slate, side by side (docs/PERFORMANCE.md).

Four measurements, each on this machine in one run:

  job       The sample job (examples/docs: 24 documents, the keyword agent of
            examples/agents/keywords.py, 4 at a time) five ways: slate-launch
            run with --exec (a Python process per document), --serve (4
            agents kept alive), --python-worker (slate.serve in 4 workers),
            GNU parallel -j4 starting the agent per document, and Python's
            multiprocessing.Pool(4) mapping the same function. The ways
            alternate within each round, so drift hits them alike; each run's
            results are checked against examples/expected/docs.json. Wall is
            end to end (a group's start and stop included, as a Pool's).
  exec      200 `cat` tasks on 2 workers with --exec, per task, against
            Python's subprocess.run(["cat"]) per call, one after another.
  noop      A Python worker's cost per task: N no-op tasks on 1 worker with
            --python-worker, against the built-in echo handler.
  client    A client's round trip: slate.Client.submit of a one-line request
            to a running group (1 worker, echo) until its result document is
            back, and until its first result arrives (Client.results).

Every interpreter is the one the slate package was built for (the first
line of bin/slate-python-worker): the script runs itself again under it.
Usage: scripts/measure_agents.py [--rounds N] [--noop-tasks N] [--round-trips N]
                                 [--only job,exec,noop,client]
(SLATE_BIN: another build's bin; its python/ beside it is imported.)
"""
import argparse
import json
import multiprocessing
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("SLATE_BIN", os.path.join(ROOT, "build", "bin"))
LAUNCH = os.path.join(BIN, "slate-launch")
AGENTS = os.path.join(ROOT, "examples", "agents")
DOCS = os.path.join(ROOT, "examples", "docs")

def built_for():
    """The interpreter bin/slate-python-worker (and so the package) is built for."""
    try:
        with open(os.path.join(BIN, "slate-python-worker")) as f:
            first = f.readline()
    except OSError:
        return sys.executable
    return first[2:].strip() if first.startswith("#!") else sys.executable


PY = built_for()
if os.path.realpath(sys.executable) != os.path.realpath(PY) and os.access(PY, os.X_OK):
    os.execv(PY, [PY, *sys.argv])
sys.path.insert(0, os.path.join(os.path.dirname(BIN), "python"))
sys.path.insert(0, AGENTS)

import keywords  # noqa: E402  (the agent's own function, for multiprocessing)
import slate  # noqa: E402


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def self_cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def env_with(pythonpath):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (pythonpath, env.get("PYTHONPATH")) if p)
    return env


def run_slate(pool, args, input_path, env=None, workers=4, extra=()):
    cmd = [LAUNCH, "run", "--pool", pool, "--workers", str(workers), *extra, *args, input_path]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    if r.returncode != 0:
        sys.exit(f"measure_agents: {' '.join(cmd)} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout)


# --- the sample job --------------------------------------------------------

def doc_paths():
    return sorted(os.path.join(DOCS, n) for n in os.listdir(DOCS) if n.endswith(".txt"))


def job_exec():
    doc = run_slate(f"agents-exec-{os.getpid()}",
                    ["--split", "files", "--exec", f"{PY} {AGENTS}/keywords.py"], DOCS)
    return [t["result"] for t in doc["tasks"]]


def job_serve():
    doc = run_slate(f"agents-serve-{os.getpid()}",
                    ["--split", "files", "--serve", f"{PY} {AGENTS}/keywords.py --serve"], DOCS)
    return [t["result"] for t in doc["tasks"]]


def job_python_worker():
    doc = run_slate(f"agents-py-{os.getpid()}",
                    ["--split", "files", "--python-worker", "keywords:slate_task"], DOCS,
                    env=env_with(AGENTS))
    return [t["result"] for t in doc["tasks"]]


def job_parallel():
    # The agent's --exec form: one task as JSON on stdin, its result on stdout.
    cmd = ["parallel", "-j4", "-k", "--halt", "now,fail=1",
           f"printf '{{\"path\": \"%s\"}}' {{}} | {PY} {AGENTS}/keywords.py", ":::",
           *doc_paths()]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        sys.exit(f"measure_agents: GNU parallel failed:\n{r.stderr[-3000:]}")
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


def job_multiprocessing():
    with multiprocessing.Pool(4) as p:
        out = p.map(keywords.run, [{"path": d} for d in doc_paths()])
    return out


JOB_WAYS = [("--exec", job_exec), ("--serve", job_serve),
            ("--python-worker", job_python_worker), ("GNU parallel -j4", job_parallel),
            ("multiprocessing.Pool(4)", job_multiprocessing)]


def measure_job(rounds):
    with open(os.path.join(ROOT, "examples", "expected", "docs.json")) as f:
        expected = json.load(f)
    walls = {name: [] for name, _ in JOB_WAYS}
    cpus = {name: [] for name, _ in JOB_WAYS}
    for r in range(rounds):
        ways = JOB_WAYS if r % 2 == 0 else list(reversed(JOB_WAYS))
        for name, way in ways:
            c0, s0, t0 = children_cpu(), self_cpu(), time.monotonic()
            results = way()
            walls[name].append(time.monotonic() - t0)
            cpus[name].append(children_cpu() - c0 + (self_cpu() - s0 if way is job_multiprocessing
                                                     else 0))
            if results != expected:
                sys.exit(f"measure_agents: {name} gave other results than "
                         "examples/expected/docs.json")
    print(f"\nSample job, cold: 24 documents, 4 at a time, started and stopped each time, "
          f"{rounds} rounds (median; all results checked)")
    print(f"  {'way':<26}{'wall ms':>9}{'range':>15}{'CPU ms':>9}{'vs --exec':>11}")
    base = statistics.median(walls["--exec"])
    for name, _ in JOB_WAYS:
        w = statistics.median(walls[name])
        print(f"  {name:<26}{w * 1e3:>9.0f}{min(walls[name]) * 1e3:>8.0f}-"
              f"{max(walls[name]) * 1e3:<6.0f}{statistics.median(cpus[name]) * 1e3:>9.0f}"
              f"{base / w:>10.1f}x")
    return expected


WARM_WAYS = [("--exec", ["--exec", f"{PY} {AGENTS}/keywords.py"]),
             ("--serve", ["--serve", f"{PY} {AGENTS}/keywords.py --serve"]),
             ("--python-worker", ["--python-worker", "keywords:slate_task"])]


def warm_slate(args, runs, expected):
    """A group started once; the job submitted runs times through one slate.Client."""
    pool = f"agents-warm-{os.getpid()}"
    r = subprocess.run([LAUNCH, "start", "--pool", pool, "--workers", "4", *args],
                       capture_output=True, text=True, env=env_with(AGENTS))
    if r.returncode != 0:
        sys.exit(f"measure_agents: cannot start a group: {r.stderr}")
    walls = []
    try:
        with slate.Client(pool) as client:
            for i in range(runs + 1):  # the first warms the agents up
                t0 = time.monotonic()
                doc = client.submit(DOCS, split="files")
                if i:
                    walls.append(time.monotonic() - t0)
                if [t.get("result") for t in doc["tasks"]] != expected:
                    sys.exit(f"measure_agents: {args[0]} (warm) gave other results")
    finally:
        subprocess.run([LAUNCH, "stop", "--pool", pool], capture_output=True)
    return walls


def warm_multiprocessing(runs, expected):
    walls = []
    tasks = [{"path": d} for d in doc_paths()]
    with multiprocessing.Pool(4) as p:
        for i in range(runs + 1):
            t0 = time.monotonic()
            out = p.map(keywords.run, tasks)
            if i:
                walls.append(time.monotonic() - t0)
            if out != expected:
                sys.exit("measure_agents: multiprocessing (warm) gave other results")
    return walls


def measure_warm(runs, expected):
    walls = {}
    for name, args in WARM_WAYS:
        walls[name] = warm_slate(args, runs if name != "--exec" else max(1, runs // 4), expected)
    walls["multiprocessing.Pool(4)"] = warm_multiprocessing(runs, expected)
    print(f"\nSample job, warm: the same 24 documents on a group already running (submitted "
          f"with slate.Client), or on a multiprocessing.Pool(4) already made; median of "
          f"{runs} jobs ({max(1, runs // 4)} for --exec) after one dropped")
    print(f"  {'way':<26}{'wall ms':>9}{'range':>17}{'vs --exec':>11}")
    base = statistics.median(walls["--exec"])
    for name, w in walls.items():
        m = statistics.median(w)
        print(f"  {name:<26}{m * 1e3:>9.1f}{min(w) * 1e3:>8.1f}-{max(w) * 1e3:<8.1f}"
              f"{base / m:>10.1f}x")
    serve, mp = statistics.median(walls["--serve"]), statistics.median(
        walls["multiprocessing.Pool(4)"])
    print(f"  warm --serve: {base / serve:.0f}x --exec's speed (aim: at least 10x), "
          f"{mp / serve:.2f}x multiprocessing.Pool(4)'s (aim: at least 1.0x)")


# --- --exec against subprocess.run ----------------------------------------

def measure_exec(tmp, tasks=200, rounds=3):
    path = os.path.join(tmp, "cat.jsonl")
    with open(path, "w") as f:
        for i in range(tasks):
            f.write(json.dumps({"payload": {"n": i}}) + "\n")
    slate_ms, sub_ms = [], []
    for r in range(rounds):
        t0 = time.monotonic()
        doc = run_slate(f"agents-cat-{os.getpid()}", ["--exec", "cat"], path, workers=2)
        slate_ms.append((time.monotonic() - t0) * 1e3 / tasks)
        if doc["summary"]["done"] != tasks:
            sys.exit(f"measure_agents: --exec cat: {doc['summary']}")
        t0 = time.monotonic()
        for i in range(tasks):
            subprocess.run(["cat"], input=json.dumps({"n": i}), capture_output=True, text=True,
                           check=True)
        sub_ms.append((time.monotonic() - t0) * 1e3 / tasks)
    s, p = statistics.median(slate_ms), statistics.median(sub_ms)
    print(f"\n--exec cat, {tasks} tasks on 2 workers (wall per task, start and stop of the "
          f"group included), {rounds} rounds, median")
    print(f"  --exec cat              {s:6.2f} ms  ({min(slate_ms):.2f}-{max(slate_ms):.2f})")
    print(f"  subprocess.run(['cat']) {p:6.2f} ms  ({min(sub_ms):.2f}-{max(sub_ms):.2f}), "
          "one after another")
    print(f"  ratio {s / p:.2f} (aim: within 1.5)")


# --- a Python worker's cost per task ----------------------------------------

def measure_noop(tmp, tasks, rounds=3):
    path = os.path.join(tmp, "noop.jsonl")
    with open(path, "w") as f:
        f.write("".join(json.dumps({"payload": {"n": i}}) + "\n" for i in range(tasks)))
    with open(os.path.join(tmp, "noop_agent.py"), "w") as f:
        f.write("def noop(task):\n    return None\n")
    py_us, echo_us = [], []
    for r in range(rounds):
        for kind in (("echo", "python") if r % 2 == 0 else ("python", "echo")):
            args = ["--handler", "echo"] if kind == "echo" else ["--python-worker",
                                                                 "noop_agent:noop"]
            t0 = time.monotonic()
            doc = run_slate(f"agents-noop-{os.getpid()}", args, path, env=env_with(tmp),
                            workers=1)
            per = (time.monotonic() - t0) * 1e6 / tasks
            if doc["summary"]["done"] != tasks:
                sys.exit(f"measure_agents: {kind}: {doc['summary']}")
            (echo_us if kind == "echo" else py_us).append(per)
    p, e = statistics.median(py_us), statistics.median(echo_us)
    print(f"\nNo-op tasks, {tasks:,} on 1 worker (wall per task, start and stop included), "
          f"{rounds} rounds alternating, median")
    print(f"  --python-worker (slate.serve, a function that returns None) {p:6.1f} us "
          f"({min(py_us):.1f}-{max(py_us):.1f})")
    print(f"  --handler echo (built in)                                  {e:6.1f} us "
          f"({min(echo_us):.1f}-{max(echo_us):.1f})")
    print(f"  a Python worker's whole cost per task {p:.1f} us (aim: under 30), of which the "
          f"Python handler {p - e:.1f} us")


# --- a client's round trip --------------------------------------------------

def measure_client(tmp, trips):
    pool = f"agents-client-{os.getpid()}"
    path = os.path.join(tmp, "one.jsonl")
    with open(path, "w") as f:
        f.write(json.dumps({"payload": {"n": 1}}) + "\n")
    r = subprocess.run([LAUNCH, "start", "--pool", pool, "--workers", "1", "--handler", "echo"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"measure_agents: cannot start a group: {r.stderr}")
    try:
        time.sleep(0.5)
        with slate.Client(pool) as client:
            def timed(fn):
                out = []
                for i in range(trips + trips // 10):
                    t0 = time.perf_counter()
                    fn()
                    out.append((time.perf_counter() - t0) * 1e6)
                return sorted(out[trips // 10:])  # warm-up dropped

            def whole():
                if client.submit(path)["summary"]["done"] != 1:
                    sys.exit("measure_agents: a round trip's task was not done")

            def first():
                next(iter(client.results(client.submit(path, wait=False))))

            def q(xs, f):
                return xs[min(len(xs) - 1, int(len(xs) * f))]
            doc, item = timed(whole), timed(first)
            queued = timed(lambda: client.submit(path, wait=False))
    finally:
        subprocess.run([LAUNCH, "stop", "--pool", pool], capture_output=True)
    print(f"\nA client's round trip: slate.Client on a running group (1 worker, echo), "
          f"{trips:,} trips after {trips // 10:,} dropped")
    for name, xs in (("submit, until the result document", doc),
                     ("submit, until the first result (Client.results)", item),
                     ("submit without waiting (the request queued)", queued)):
        print(f"  {name:<50} p50 {q(xs, .5):7.1f} us  p90 {q(xs, .9):7.1f}  "
              f"p99 {q(xs, .99):7.1f}")
    print("  (aim: p50 under 50 us)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3, help="rounds of the sample job (default 3)")
    ap.add_argument("--warm-runs", type=int, default=20,
                    help="jobs on a running group, per way (default 20; --exec a quarter)")
    ap.add_argument("--noop-tasks", type=int, default=100_000,
                    help="no-op tasks for a Python worker's cost (default 100,000)")
    ap.add_argument("--round-trips", type=int, default=2000,
                    help="client round trips (default 2,000)")
    ap.add_argument("--only", default="job,exec,noop,client",
                    help="which measurements, comma-separated (default: all)")
    a = ap.parse_args()
    only = set(a.only.split(","))
    unknown = only - {"job", "exec", "noop", "client"}
    if unknown:
        ap.error(f"--only: unknown {', '.join(sorted(unknown))}")
    if not os.access(LAUNCH, os.X_OK):
        sys.exit(f"measure_agents: no {LAUNCH}; build first (cmake --build build -j2)")
    if "job" in only and not shutil.which("parallel"):
        sys.exit("measure_agents: GNU parallel is missing (scripts/install-deps.sh installs it)")
    print(f"measure_agents: {os.cpu_count()} CPUs, {PY}, slate from {BIN}")
    with tempfile.TemporaryDirectory(prefix="measure-agents-") as tmp:
        if "job" in only:
            measure_warm(a.warm_runs, measure_job(a.rounds))
        if "exec" in only:
            measure_exec(tmp)
        if "noop" in only:
            measure_noop(tmp, a.noop_tasks)
        if "client" in only:
            measure_client(tmp, a.round_trips)


if __name__ == "__main__":
    main()
