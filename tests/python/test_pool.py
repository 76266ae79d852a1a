"""slate.Pool: the pool itself from Python."""
import os
import threading
import time
import uuid

import pytest
import slate


@pytest.fixture
def pool():
    name = "pyp-" + uuid.uuid4().hex[:12]
    p = slate.Pool.create(name, slots=1024, data_bytes=1 << 20, max_payload=4096, agents=8)
    yield p
    p.close()
    slate.Pool.remove(name)
    assert not slate.Pool.exists(name)


def test_entries_round_trip_and_filter(pool):
    a = pool.write("notes", {"text": "alpha", "n": [1, 2.5, None, True]}, tags=["x", "y"],
                   importance=0.9, author="ann")
    b = pool.write("notes", "beta", tags=["y"], importance=0.2, author="bob")
    c = pool.write("other", 3, tags=["x"], author="ann")
    e = pool.read(a)
    assert e["payload"] == {"text": "alpha", "n": [1, 2.5, None, True]}
    assert (e["segment"], e["tags"], e["author"]) == ("notes", ["x", "y"], "ann")
    assert e["importance"] == pytest.approx(0.9)
    ids = lambda entries: [x["id"] for x in entries]  # noqa: E731
    assert ids(pool.find(segments=["notes"])) == [a, b]
    assert ids(pool.find(tags=["x", "y"])) == [a]
    assert ids(pool.find(any_tags=["x"])) == [a, c]
    assert ids(pool.find(min_importance=0.6)) == [a]
    assert ids(pool.find(exclude_author="ann")) == [b]
    assert ids(pool.find(after_id=a, limit=1)) == [b]
    assert ids(pool.find(segments=["notes"], by_importance=True)) == [a, b]
    pool.update(b, payload={"now": "gamma"}, importance=1.0)
    assert pool.read(b)["payload"] == {"now": "gamma"}
    pool.erase(c)
    with pytest.raises(slate.Error, match=str(c)):
        pool.read(c)


def test_wait_wakes_when_a_matching_entry_is_written(pool):
    last = pool.write("notes", 0)

    def later():
        time.sleep(0.1)
        writer = slate.Pool.open(pool.name)
        writer.write("notes", "hello", tags=["for-me"])
        writer.close()

    t = threading.Thread(target=later)
    t.start()
    started = time.monotonic()
    got = pool.wait(tags=["for-me"], after_id=last, timeout_s=5)
    t.join()
    assert [g["payload"] for g in got] == ["hello"]
    assert time.monotonic() - started < 2
    assert pool.wait(tags=["nobody"], after_id=last, timeout_s=0.05) == []


def test_tasks_are_claimed_completed_once_and_fenced(pool):
    me = pool.register("py-worker", capabilities=["gpu"])
    assert isinstance(me, slate.AgentRef)
    pool.heartbeat(me)
    t1 = pool.post({"job": 1}, priority=1)
    t2 = pool.post({"job": 2}, priority=5, requires="gpu")
    c = pool.claim(me, lease_ms=5000)
    assert (c["id"], c["payload"], c["state"]) == (t2, {"job": 2}, "running")
    pool.renew(c["id"], c["epoch"], lease_ms=5000)
    r = pool.complete(c["id"], c["epoch"], {"answer": 42}, by=me)
    assert pool.read(r)["payload"] == {"answer": 42}
    assert pool.task(t2)["state"] == "done"
    with pytest.raises(slate.Error, match="epoch"):
        pool.complete(c["id"], c["epoch"], {"again": True})
    c1 = pool.claim(me)
    pool.fail(c1["id"], c1["epoch"], "it broke")
    assert pool.task(t1)["state"] == "failed"
    assert pool.claim(me) is None
    assert pool.claim(me, wait_s=0.05) is None
    pool.deregister(me)


def test_bad_input_is_a_clear_error(pool):
    with pytest.raises(slate.Error, match="segment"):
        pool.write("bad segment!", 1)
    with pytest.raises(TypeError, match="set"):
        pool.write("notes", {1, 2})
    with pytest.raises(ValueError, match="role"):
        pool.register("x", role="boss")
    with pytest.raises(slate.Error):
        slate.Pool.open("no-such-pool-" + str(os.getpid()))
    with pytest.raises(slate.Error, match="exists"):
        slate.Pool.create(pool.name)
    other = slate.Pool.open(pool.name)
    other.close()
    with pytest.raises(slate.Error, match="closed"):
        other.read(1)
