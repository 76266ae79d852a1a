"""slate.kaizen.SharedMemoryPool against Kaizen's documented behaviour:
the same filters, order and shapes, but shared by processes."""
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta

import pytest
import slate
from slate.kaizen import SharedMemoryPool


@pytest.fixture
def name():
    n = "kz-" + uuid.uuid4().hex[:12]
    yield n
    if slate.Pool.exists(n):
        slate.Pool.remove(n)


def insight(agent, content, tags, importance, segment, **extra):
    return dict(agent_id=agent, content=content, tags=tags, importance=importance,
                segment=segment, **extra)


def test_write_validates_and_stamps_like_kaizen(name):
    pool = SharedMemoryPool(name)
    assert slate.Pool.exists(name), "created when missing"
    for missing in ("agent_id", "content", "tags", "importance", "segment"):
        bad = insight("a", "c", [], 0.5, "s")
        del bad[missing]
        with pytest.raises(ValueError, match=f"'{missing}'"):
            pool.write_insight(bad)
    with pytest.raises(ValueError, match="between 0 and 1"):
        pool.write_insight(insight("a", "c", [], 1.5, "s"))
    original = insight("a", "c", ["t"], 0.5, "s", metadata={"k": [1, 2]})
    pool.write_insight(original)
    assert "timestamp" not in original, "the caller's dict is left alone"
    [got] = pool.read_all()
    assert got["metadata"] == {"k": [1, 2]}
    assert datetime.fromisoformat(got["timestamp"]) <= datetime.now()


def test_read_relevant_filters_and_orders_like_kaizen(name):
    pool = SharedMemoryPool(name)
    old = (datetime.now() - timedelta(seconds=3600)).isoformat()
    rows = [
        insight("analyzer", "a1", ["customer", "complaint"], 0.9, "analysis"),
        insight("analyzer", "a2", ["shipping"], 0.4, "analysis"),
        insight("responder", "r1", ["customer"], 0.7, "response"),
        insight("planner", "p1", ["customer"], 0.95, "planning", timestamp=old),
        insight("planner", "p2", ["billing"], 0.7, "planning"),
    ]
    for r in rows:
        pool.write_insight(r)
        time.sleep(0.002)  # distinct timestamps
    contents = lambda found: [i["content"] for i in found]  # noqa: E731
    assert contents(pool.read_all()) == ["a1", "a2", "r1", "p1", "p2"]
    # Own excluded; any tag; most important, then newest.
    assert contents(pool.read_relevant(agent_id="responder", tags=["customer"])) == ["p1", "a1"]
    assert contents(pool.read_relevant(agent_id="responder", exclude_own=False,
                                       tags=["customer"])) == ["p1", "a1", "r1"]
    assert contents(pool.read_relevant(min_importance=0.7)) == ["p1", "a1", "p2", "r1"]
    assert contents(pool.read_relevant(segments=["analysis", "response"])) == ["a1", "r1", "a2"]
    assert contents(pool.read_relevant(max_age_seconds=600)) == ["a1", "p2", "r1", "a2"]
    assert contents(pool.read_relevant(limit=2)) == ["p1", "a1"]
    stats = pool.get_stats()
    assert stats["insight_count"] == 5
    assert stats["agent_count"] == 3
    assert stats["tag_distribution"] == {"customer": 3, "complaint": 1, "shipping": 1,
                                         "billing": 1}
    assert stats["segment_distribution"] == {"analysis": 2, "response": 1, "planning": 2}
    pool.clear()
    assert pool.read_all() == []
    assert pool.get_stats() == {"insight_count": 0, "agent_count": 0, "tag_distribution": {},
                                "segment_distribution": {}}


def test_processes_share_one_pool(name):
    pool = SharedMemoryPool(name)
    code = ("from slate.kaizen import SharedMemoryPool; "
            "SharedMemoryPool(%r).write_insight({'agent_id': 'other-process', 'content': 'hi', "
            "'tags': ['x'], 'importance': 0.8, 'segment': 's'})" % name)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)
    found = pool.read_relevant(agent_id="me", tags=["x"])
    assert [i["agent_id"] for i in found] == ["other-process"]
