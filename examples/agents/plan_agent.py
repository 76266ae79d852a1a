#!/usr/bin/env python3
"""A slate exec agent for plans: reads the envelope slate sends a plan task,
{"id", "payload", "context", "feedback", "iteration"}, and prints its result.

  {"op": "keywords", "path": ...}   a document's top keywords (keywords.py)
  {"op": "merge", "topic": ...}     one topic's keywords, from the results of
                                    its documents (the context)
  {"op": "report", "title": ...}    a report with a section per topic, from
                                    the merges; it adds the sections the
                                    feedback of earlier rounds asks for

The report's first draft has only the topic sections: the validator
(report_validator.py) sends it back asking for the overview, and the second
iteration adds it. Standard library only; safe to run twice.
"""
import collections
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keywords import keywords  # noqa: E402

MISSING = re.compile(r"missing section: (.+)")


def merge(topic, context, top=8):
    counts = collections.Counter()
    documents = []
    for result in context.values():
        documents.append(result["document"])
        for k in result["keywords"]:
            counts[k["word"]] += k["count"]
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return {"topic": topic, "documents": sorted(documents),
            "keywords": [{"word": w, "count": n} for w, n in ranked]}


def section(heading, merges):
    words = collections.Counter()
    for m in merges:
        for k in m["keywords"]:
            words[k["word"]] += k["count"]
    top = ", ".join(w for w, _ in sorted(words.items(), key=lambda kv: (-kv[1], kv[0]))[:6])
    docs = sum(len(m["documents"]) for m in merges)
    return {"heading": heading, "text": f"{docs} documents; most frequent: {top}."}


def report(payload, context, feedback):
    merges = sorted(context.values(), key=lambda m: m["topic"])
    sections = [section(m["topic"], [m]) for m in merges]
    # What the reviewer asked for in earlier rounds, first.
    asked = []
    for round_ in feedback:
        for name in MISSING.findall(round_["feedback"]):
            for heading in name.split(", "):
                if heading not in asked:
                    asked.append(heading)
    sections = [section(h, merges) for h in asked] + sections
    markdown = "\n\n".join([f"# {payload['title']}"] +
                           [f"## {s['heading']}\n\n{s['text']}" for s in sections])
    return {"title": payload["title"], "sections": sections, "markdown": markdown}


def main():
    env = json.load(sys.stdin)
    payload = env["payload"]
    op = payload.get("op")
    if op == "keywords":
        result = keywords(payload["path"])
    elif op == "merge":
        result = merge(payload["topic"], env["context"])
    elif op == "report":
        result = report(payload, env["context"], env["feedback"])
    else:
        print(f"plan_agent.py: unknown op {op!r}", file=sys.stderr)
        return 1
    json.dump(result, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
