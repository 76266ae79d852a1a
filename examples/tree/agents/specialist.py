#!/usr/bin/env python3
"""A specialist worker: does one part of a feature (here, describes it).
Offline and deterministic."""
import json
import sys


def main():
    task = json.load(sys.stdin)
    feature = task.get("feature", "unnamed")
    part = task.get("part", "whole")
    print(json.dumps({"feature": feature, "part": part, "status": "built",
                      "note": f"{part} of {feature} done"}))


if __name__ == "__main__":
    main()
