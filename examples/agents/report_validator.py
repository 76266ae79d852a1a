#!/usr/bin/env python3
"""A slate validator: checks a report (plan_agent.py's "report" op).

Reads {"id", "payload", "context", "result", "iteration"} and prints
{"ok": true}, or {"ok": false, "feedback": "missing section: A, B"} naming
every required section the report lacks: the payload's "required" ones
and one per topic it was given. Results of other ops pass as they are.
"""
import json
import sys


def main():
    env = json.load(sys.stdin)
    payload, result = env["payload"], env["result"]
    if payload.get("op") != "report":
        print(json.dumps({"ok": True}))
        return 0
    required = list(payload.get("required", []))
    required += sorted(m["topic"] for m in env["context"].values())
    have = {s["heading"] for s in result.get("sections", [])}
    missing = [r for r in required if r not in have]
    if missing:
        print(json.dumps({"ok": False, "feedback": "missing section: " + ", ".join(missing)}))
    else:
        print(json.dumps({"ok": True}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
