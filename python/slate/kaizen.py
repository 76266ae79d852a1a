"""A drop-in for Kaizen's SharedMemoryPool, shared by processes.

Kaizen's pool (kaizen.memory.shared_memory) is a list behind a thread lock
in one interpreter. This one keeps the same insights, as dicts of the same
shape, in a slate pool: every process that attaches to the same name sees
them, and the pool's importance-aware eviction bounds them (when it is
full, the least important go first).

    from slate.kaizen import SharedMemoryPool
    pool = SharedMemoryPool("team")          # attaches, or creates the pool
    pool.write_insight({"agent_id": "analyzer", "content": "...",
                        "tags": ["customer"], "importance": 0.9,
                        "segment": "analysis"})
    pool.read_relevant(agent_id="responder", tags=["customer"], limit=5)

The methods take and return what Kaizen's do, with its filters and its
order: read_relevant keeps insights from other agents (exclude_own), with
any of the tags, at least min_importance, in one of the segments, no older
than max_age_seconds, most important then newest first, at most limit.
An insight's values must be payloads (None, bool, int, float, str, list,
tuple, dict with str keys). Each insight is an entry of the slate segment
"insights", written by its agent_id, with its importance.
"""
from collections import Counter
from datetime import datetime, timedelta

from ._slate import Error, Pool

SEGMENT = "insights"
_REQUIRED = ("agent_id", "content", "tags", "importance", "segment")


class SharedMemoryPool:
    """Insights shared by every process attached to the slate pool `name`."""

    def __init__(self, name="kaizen", **create_options):
        """Attaches to the slate pool `name`, creating it (with
        create_options, as slate.Pool.create takes them) when it does not
        exist."""
        self._pool = _attach(name, create_options)

    def write_insight(self, insight):
        for field in _REQUIRED:
            if field not in insight:
                raise ValueError(f"Insight must have '{field}' field")
        importance = insight["importance"]
        if not 0.0 <= importance <= 1.0:
            raise ValueError(f"Insight importance must be between 0 and 1, got {importance}")
        if "timestamp" not in insight:
            insight = dict(insight, timestamp=datetime.now().isoformat())
        self._pool.write(SEGMENT, insight, importance=float(importance),
                         author=str(insight["agent_id"]))

    def read_all(self):
        return [e["payload"] for e in self._entries()]

    def read_relevant(self, agent_id=None, tags=None, min_importance=None, segments=None,
                      max_age_seconds=None, exclude_own=True, limit=None):
        # The pool filters by importance and author; the rest as Kaizen does.
        found = self._entries(min_importance=min_importance or 0.0,
                              exclude_author=str(agent_id) if exclude_own and agent_id else "")
        insights = [e["payload"] for e in found]
        if exclude_own and agent_id:
            insights = [i for i in insights if i.get("agent_id") != agent_id]
        if tags:
            insights = [i for i in insights if any(t in i.get("tags", []) for t in tags)]
        if min_importance is not None:
            insights = [i for i in insights if i.get("importance", 0) >= min_importance]
        if segments:
            insights = [i for i in insights if i.get("segment") in segments]
        if max_age_seconds is not None:
            cutoff = datetime.now() - timedelta(seconds=max_age_seconds)
            insights = [i for i in insights if datetime.fromisoformat(i["timestamp"]) >= cutoff]
        insights.sort(key=lambda i: (i.get("importance", 0), i.get("timestamp", "")),
                      reverse=True)
        return insights[:limit] if limit else insights

    def clear(self):
        for e in self._entries():
            try:
                self._pool.erase(e["id"])
            except Error:
                pass  # evicted or erased by another process meanwhile

    def get_stats(self):
        insights = self.read_all()
        if not insights:
            return {"insight_count": 0, "agent_count": 0, "tag_distribution": {},
                    "segment_distribution": {}}
        return {
            "insight_count": len(insights),
            "agent_count": len({i.get("agent_id") for i in insights}),
            "tag_distribution": dict(Counter(t for i in insights for t in i.get("tags", []))),
            "segment_distribution": dict(Counter(i.get("segment") for i in insights)),
        }

    def _entries(self, **filters):
        # The pool's importance is a float32: compare a hair below.
        if filters.get("min_importance"):
            filters["min_importance"] = max(0.0, filters["min_importance"] - 1e-6)
        return self._pool.find(segments=[SEGMENT], limit=0, **filters)


def _attach(name, create_options):
    try:
        return Pool.open(name)
    except Error:
        pass
    try:
        return Pool.create(name, **create_options)
    except Error:
        return Pool.open(name)  # another process created it first
