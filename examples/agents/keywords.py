#!/usr/bin/env python3
"""A slate agent: the top keywords of a document.

A task is {"path": "..."} (what --split files produces), or
{"op": "keywords"|"stats", "path": ...}. Standard library only. Safe to run
twice on the same task: it only reads.

  keywords.py          (--exec) reads one task from stdin, prints its result
                       as JSON; exit status 1 with a message on stderr fails it.
  keywords.py --serve  (--serve) stays alive: a task a line on stdin, a result
                       a line on stdout, {"error": "..."} for a task it cannot do.
  keywords:slate_task  (--python-worker, with examples/agents on PYTHONPATH) a
                       Python worker's function: a task it cannot do raises.
"""
import collections
import json
import os
import re
import sys

STOPWORDS = set("""
a about all an and are as at be by early each every first for from good great
had has have in it its long many most near new of often old on one or over
people small some still that the their there they this through time to under
was way we were when which with work day
""".split())

WORD = re.compile(r"[a-z][a-z']+")


EXAMPLES = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def words_of(path):
    # Relative paths name files under examples/, wherever the worker runs.
    if not os.path.isabs(path):
        path = os.path.join(EXAMPLES, path)
    with open(path, encoding="utf-8") as f:
        return WORD.findall(f.read().lower())


def keywords(path, top=5):
    words = words_of(path)
    counts = collections.Counter(w for w in words if w not in STOPWORDS)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return {
        "document": os.path.basename(path),
        "words": len(words),
        "keywords": [{"word": w, "count": n} for w, n in ranked],
    }


def stats(path):
    words = words_of(path)
    return {
        "document": os.path.basename(path),
        "words": len(words),
        "distinct": len(set(words)),
        "longest": max(words, key=lambda w: (len(w), w)) if words else "",
    }


class TaskError(Exception):
    """A task this agent cannot do; its message says why."""


def run(task):
    if not isinstance(task, dict) or not isinstance(task.get("path"), str):
        raise TaskError('expected {"path": "..."}')
    op = task.get("op", "keywords")
    try:
        if op == "keywords":
            return keywords(task["path"], int(task.get("top", 5)))
        if op == "stats":
            return stats(task["path"])
    except OSError as e:
        raise TaskError(str(e)) from e
    raise TaskError(f"unknown op '{op}'")


def slate_task(task):
    return run(task.payload)


def serve():
    for line in sys.stdin:
        try:
            result = run(json.loads(line))
        except (json.JSONDecodeError, TaskError) as e:
            result = {"error": f"keywords.py: {e}"}
        print(json.dumps(result), flush=True)
    return 0


def main():
    if sys.argv[1:] == ["--serve"]:
        return serve()
    try:
        task = json.load(sys.stdin)
    except json.JSONDecodeError as e:
        print(f"keywords.py: stdin is not JSON: {e}", file=sys.stderr)
        return 1
    try:
        result = run(task)
    except TaskError as e:
        print(f"keywords.py: {e}", file=sys.stderr)
        return 1
    json.dump(result, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
