#!/usr/bin/env python3
"""Writes examples/expected/: what each sample task must produce.

Runs agents/keywords.py on every task directly, without slate, so the
expected results are an independent oracle for the end-to-end tests:
  expected/docs.json     for: slate-launch run --split files examples/docs
  expected/request.json  for: slate-launch run examples/request.jsonl
Each is a list, in input order, of the agent's JSON output.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
AGENT = os.path.join(HERE, "agents", "keywords.py")


def run(task):
    out = subprocess.run([sys.executable, AGENT], input=json.dumps(task), text=True,
                         capture_output=True, check=True)
    return json.loads(out.stdout)


def main():
    os.makedirs(os.path.join(HERE, "expected"), exist_ok=True)
    docs_dir = os.path.join(HERE, "docs")
    docs = [run({"path": os.path.join(docs_dir, d)}) for d in sorted(os.listdir(docs_dir))]
    with open(os.path.join(HERE, "request.jsonl")) as f:
        request = [run(json.loads(line)["payload"]) for line in f if line.strip()]
    for name, results in (("docs.json", docs), ("request.json", request)):
        with open(os.path.join(HERE, "expected", name), "w") as f:
            json.dump(results, f, indent=1, sort_keys=True)
            f.write("\n")


if __name__ == "__main__":
    main()
