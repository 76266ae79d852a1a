#!/usr/bin/env python3
"""A sub-supervisor's decompose command: a feature in, its team's subtasks
out, one request line each (JSON Lines). Offline and deterministic: a
replacement sub-supervisor that plans the same task again gets the same
lines."""
import json
import sys

PARTS = {
    "frontend": [("markup", None), ("styles", None), ("accessibility", None)],
    # The schema goes down a level, to the database team's sub-supervisor.
    "backend": [("api", "api"), ("auth", "api"), ("schema", "database")],
    "database": [("tables", None), ("migration", None), ("indexes", None)],
    "testing": [("unit", None), ("end-to-end", None)],
}


def main():
    team = sys.argv[1]
    task = json.load(sys.stdin)
    feature = task.get("feature", "unnamed")
    for part, requires in PARTS[team]:
        line = {"id": f"{feature}-{part}", "payload": {"feature": feature, "part": part}}
        if requires:
            line["requires"] = requires
        print(json.dumps(line))


if __name__ == "__main__":
    main()
