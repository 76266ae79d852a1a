"""slate.Client, slate.submit and slate.results: clients of a running group."""
import os
import time

import pytest
import slate

from conftest import HERE, launch


def test_submit_waits_for_the_result_document(group):
    group.start("--handler", "echo")
    path = group.request("r.jsonl", [{"payload": {"n": n}} for n in range(5)])
    doc = slate.submit(group.pool, path)
    assert [t["result"] for t in doc["tasks"]] == [{"n": n} for n in range(5)]
    assert doc["summary"]["done"] == 5
    # The same semantics as slate-launch submit: the same document shape.
    cli = group.submit(path)
    assert cli.keys() == doc.keys()
    assert cli["summary"]["tasks"] == doc["summary"]["tasks"]


def test_submit_without_waiting_gives_the_request_id_and_priority_counts(group):
    group.start("--handler", "sleep", "--max-pending", "1")
    slow = group.request("slow.jsonl", [{"payload": {"ms": 300}} for _ in range(6)])
    slow_id = slate.submit(group.pool, slow, wait=False)
    assert isinstance(slow_id, str) and slow_id.isdigit()
    urgent = group.request("urgent.jsonl", [{"payload": {"ms": 10}}])
    doc = slate.submit(group.pool, urgent, priority=50)
    assert doc["summary"]["done"] == 1
    assert doc["summary"]["wall_ms"] < 1500, "the urgent request waited for the slow one"


def test_submit_says_what_is_wrong(group, tmp_path):
    missing = str(tmp_path / "missing.jsonl")
    ok = group.request("ok.jsonl", [{"payload": 1}])
    with pytest.raises(slate.Error, match="pool 'no-such-pool-"):
        slate.submit("no-such-pool-" + str(os.getpid()), ok)
    group.start()
    with pytest.raises(slate.Error, match="missing.jsonl"):
        slate.submit(group.pool, missing)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    with pytest.raises(slate.Error, match="bad.jsonl:1: not valid JSON"):
        slate.submit(group.pool, str(bad))
    with pytest.raises(ValueError, match="-128..127"):
        slate.submit(group.pool, ok, priority=300)
    slow = group.request("slow.jsonl", [{"payload": {"ms": 2000}}])
    launch("stop", "--pool", group.pool)
    group.start("--handler", "sleep")
    with pytest.raises(slate.Error, match="did not end within"):
        slate.submit(group.pool, slow, timeout_s=0.3)


def test_results_come_as_tasks_end_each_once_then_stop(group):
    group.start("--handler", "sleep", "--max-pending", "1")
    lines = [{"payload": {"ms": 50 * (n + 1)}} for n in range(6)]
    request_id = slate.submit(group.pool, group.request("r.jsonl", lines), wait=False)
    seen, first_at = [], None
    started = time.monotonic()
    for item in slate.results(group.pool, request_id, timeout_s=30):
        if first_at is None:
            first_at = time.monotonic() - started
        seen.append(item)
    total = time.monotonic() - started
    assert sorted(i["index"] for i in seen) == list(range(6)), "each item once"
    for i in seen:  # one worker, one task at a time: all but the first queue
        assert i["worker"] == "worker-1"
        assert i["run_ms"] >= 50 * (i["index"] + 1)
        assert i["queued_ms"] + i["run_ms"] == pytest.approx(i["ms"], abs=0.01)
    assert max(i["queued_ms"] for i in seen) >= 50 * sum(range(1, 6))
    assert all(i["status"] == "done" for i in seen)
    assert {i["index"]: i["result"]["slept_ms"] for i in seen} == {n: 50 * (n + 1) for n in range(6)}
    assert first_at < total / 2, "the first result waited for the whole request"


def test_results_give_what_did_not_succeed_with_its_error(group):
    group.start("--handler", "fail")
    request_id = slate.submit(group.pool, group.request("r.jsonl", [
        {"payload": 1, "max_retries": 0}]), wait=False)
    items = list(slate.results(group.pool, request_id, timeout_s=30))
    assert len(items) == 1
    assert items[0]["status"] == "dead_lettered"
    assert items[0]["error"]
    with pytest.raises(slate.Error, match="no request 999999"):
        slate.results(group.pool, "999999")
    with pytest.raises(ValueError, match="is a number"):
        slate.results(group.pool, "abc")


def test_the_leader_and_its_standby_are_seen_and_a_killed_leader_is_replaced(group):
    group.start("--handler", "echo", "--supervisors", "2")
    slate.submit(group.pool, group.request("r.jsonl", [{"payload": 1}]))
    p = slate.Pool.open(group.pool)
    first = p.leader()
    assert first["term"] == 1 and first["alive"] and first["name"].startswith("supervisor-")
    assert first["pid"] > 0 and first["expires_in_s"] > 0 and first["refused"] == 0
    os.kill(first["pid"], 9)
    deadline = time.monotonic() + 5
    while p.leader()["term"] < 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    second = p.leader()
    assert second["term"] == 2 and second["alive"] and second["pid"] != first["pid"]
    doc = slate.submit(group.pool, group.request("again.jsonl", [{"payload": 2}]))
    assert doc["summary"]["done"] == 1
    p.close()


def test_a_client_stays_attached_across_requests_and_says_when_closed(group):
    group.start("--handler", "echo")
    with slate.Client(group.pool) as client:
        assert client.pool == group.pool
        # Many small requests, some in flight together: each gets its own results.
        ids = [client.submit(group.request("a%d.jsonl" % n, [{"payload": {"n": n}}]), wait=False)
               for n in range(20)]
        for n in range(20, 60):
            doc = client.submit(group.request("b%d.jsonl" % n, [{"payload": {"n": n}},
                                                                {"payload": {"m": n}}]))
            assert [t["result"] for t in doc["tasks"]] == [{"n": n}, {"m": n}]
        for n, request_id in enumerate(ids):
            items = list(client.results(request_id, timeout_s=30))
            assert [i["result"] for i in items] == [{"n": n}]
        stream = client.results(ids[0], timeout_s=30)
    with pytest.raises(slate.Error, match="is closed"):
        client.submit(group.request("late.jsonl", [{"payload": 1}]))
    assert len(list(stream)) == 1, "a stream outlives the client it came from"
    with pytest.raises(slate.Error, match="pool 'no-such-pool-"):
        slate.Client("no-such-pool-" + str(os.getpid()))


def test_a_client_of_a_stopped_group_is_told_so(group):
    group.start("--handler", "echo")
    client = slate.Client(group.pool)
    assert client.submit(group.request("r.jsonl", [{"payload": 1}]))["summary"]["done"] == 1
    launch("stop", "--pool", group.pool)
    with pytest.raises(slate.Error, match="no supervisor leads"):
        client.submit(group.request("r2.jsonl", [{"payload": 2}]))
    client.close()
