"""slate.submit: a client of a running group."""
import os

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
