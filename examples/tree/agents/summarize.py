#!/usr/bin/env python3
"""A sub-supervisor's synthesize command: {"task", "results"} in, the
task's result out: which parts were built."""
import json
import sys


def main():
    doc = json.load(sys.stdin)
    parts = []
    for item in doc["results"]:
        result = item["result"]
        if isinstance(result, dict) and "part" in result:
            parts.append(result["part"])
        else:  # a sub-supervisor's own result, one level down
            parts.append(item["id"])
    print(json.dumps({"feature": doc["task"].get("feature"), "parts": parts,
                      "complete": len(parts) == len(doc["results"])}))


if __name__ == "__main__":
    main()
