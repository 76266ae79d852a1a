"""The dashboard's HTTP API against a real group: every endpoint, what it
refuses (no token, another origin, bad parameters) and its actions."""
import json
import pytest
import socket
import time

from conftest import eventually


def test_every_page_and_endpoint_answers(dashboard):
    dashboard.start("--workers", "2", "--handler", "sleep")
    rid = dashboard.submit(dashboard.request("r.jsonl", [{"payload": {"ms": 20}}] * 30))
    status, html = dashboard.http("GET", "/")
    assert status == 200 and "<title>slate dashboard</title>" in html
    for asset in ("/app.js", "/style.css"):
        assert dashboard.http("GET", asset)[0] == 200
    overview = eventually(lambda: (o := dashboard.get("/api/overview"))["pool"]["tasks"]["done"] == 30
                          and o, what="the request's 30 tasks done")
    assert overview["pool"]["pool"] == dashboard.pool
    assert {s["name"] for s in overview["pool"]["segments"]} >= {"tasks", "results", "errors"}
    assert overview["history"], "no throughput samples"
    workers = dashboard.get("/api/workers")
    names = {w["name"]: w for w in workers["workers"]}
    assert {"worker-1", "worker-2"} <= names.keys()
    assert names["worker-1"]["restarts"] == 0
    assert sum(w["leads"] for w in workers["workers"]) == 1
    assert workers["lead"]["term"] >= 1
    tasks = dashboard.get(f"/api/tasks?request={rid}&per_page=10&page=3")
    assert tasks["total"] == 30 and tasks["pages"] == 3 and len(tasks["items"]) == 10
    assert [t["index"] for t in tasks["items"]] == [str(i) for i in range(20, 30)]
    newest = dashboard.get(f"/api/tasks?request={rid}&sort=id&desc=1&per_page=1")["items"][0]
    assert newest["index"] == "29" and newest["state"] == "done"
    assert dashboard.get("/api/tasks?state=running")["total"] == 0
    one = dashboard.get(f"/api/tasks/{newest['id']}")
    assert one["state"] == "done" and json.loads(one["payload"]["text"]) == {"ms": 20}
    assert json.loads(one["result"]["text"]) == {"slept_ms": 20}
    assert one["run_ms"] >= 20 and one["queued_ms"] + one["run_ms"] == pytest.approx(one["ms"])
    assert dashboard.get("/api/dead-letters")["total"] == 0
    assert dashboard.get("/api/conflicts")["page"] == 1
    assert dashboard.get("/api/held") == {"items": []}


def test_bad_parameters_are_answered_400_and_missing_things_404(dashboard):
    dashboard.start("--workers", "1")
    for path, says in [("/api/tasks?page=0", "page counts from 1"),
                       ("/api/tasks?per_page=501", "per_page is 1 to 500"),
                       ("/api/tasks?per_page=ten", "per_page must be a number"),
                       ("/api/tasks?state=lost", "unknown state 'lost'"),
                       ("/api/tasks?sort=name", "unknown sort 'name'"),
                       ("/api/tasks?request=abc", "a request id is a number"),
                       ("/api/tasks/12x", "a task id is a number"),
                       ("/api/dead-letters?page=-1", "page must be a number")]:
        status, body = dashboard.http("GET", path)
        assert status == 400, (path, status, body)
        assert says in body["error"], (path, body)
    status, body = dashboard.http("GET", "/api/tasks/999999")
    assert status == 404 and body["error"] == "no task 999999"
    assert dashboard.http("GET", "/api/nothing")[0] == 404
    assert dashboard.http("PUT", "/api/cancel", {"request": "1"})[0] == 405


def test_actions_need_the_token_and_a_request_from_the_page_itself(dashboard):
    dashboard.start("--workers", "1", "--handler", "sleep")
    rid = dashboard.submit(dashboard.request("slow.jsonl", [{"payload": {"ms": 5000}}] * 4))
    body = {"request": rid}
    status, answer = dashboard.http("POST", "/api/cancel", body)
    assert status == 401 and "token" in answer["error"]
    assert dashboard.http("POST", "/api/cancel", body, token="0" * 64)[0] == 401
    # Another site's page: its form cannot send JSON, and its origin is not ours.
    assert dashboard.http("POST", "/api/cancel", b"request=" + rid.encode(), token=dashboard.token,
                          headers={"Content-Type": "application/x-www-form-urlencoded"})[0] == 415
    assert dashboard.http("POST", "/api/cancel", body, token=dashboard.token,
                          headers={"Origin": "http://evil.example"})[0] == 403
    # A name rebound to 127.0.0.1 (DNS rebinding) reaches us with its own Host.
    port = int(dashboard.url.rsplit(":", 1)[1].strip("/"))
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"GET /api/overview HTTP/1.1\r\nHost: evil.example:%d\r\n\r\n" % port)
        assert s.recv(100).startswith(b"HTTP/1.1 403")
    assert dashboard.get(f"/api/tasks?request={rid}&state=cancelled")["total"] == 0, \
        "a refused action acted"
    status, answer = dashboard.http("POST", "/api/cancel", body, token=dashboard.token)
    assert status == 200 and answer["cancelled"] == 4, answer
    eventually(lambda: dashboard.get("/api/overview")["pool"]["tasks"]["cancelled"] == 4,
               what="4 tasks cancelled")
    status, answer = dashboard.http("POST", "/api/cancel", {"request": "424242"},
                                    token=dashboard.token)
    assert status == 404 and "no request 424242" in answer["error"]
    status, answer = dashboard.http("POST", "/api/cancel", {}, token=dashboard.token)
    assert status == 400


def test_a_held_task_is_listed_and_answered(dashboard):
    dashboard.start("--workers", "1", "--handler", "fail")
    rid = dashboard.submit(dashboard.request("r.jsonl", [
        {"id": "shaky", "payload": {"message": "no luck"}, "max_retries": 0,
         "on_exhausted": "review"}]))
    held = eventually(lambda: dashboard.get("/api/held")["items"], what="a held task")
    assert held[0]["id"] == "shaky" and held[0]["request"] == rid
    assert any("no luck" in e for e in map(str, held[0]["errors"]))
    task = dashboard.get(f"/api/tasks/{held[0]['task']}")
    assert task["state"] == "held"
    assert [r.get("kind") for r in task["history"]][-1] == "held"
    status, answer = dashboard.http("POST", "/api/review",
                                    {"task": "shaky", "action": "accept"}, token=dashboard.token)
    assert status == 400 and "needs the result" in answer["error"]
    status, answer = dashboard.http("POST", "/api/review",
                                    {"task": "shaky", "action": "accept", "result": {"ok": 1}},
                                    token=dashboard.token)
    assert status == 200, answer
    eventually(lambda: dashboard.get("/api/held") == {"items": []}, what="the task answered")
    assert dashboard.get(f"/api/tasks/{held[0]['task']}")["state"] == "done"
    status, answer = dashboard.http("POST", "/api/review", {"task": "shaky", "action": "reject"},
                                    token=dashboard.token)
    assert status == 404 and "no held task 'shaky'" in answer["error"]
    status, answer = dashboard.http("POST", "/api/review",
                                    {"task": str(held[0]["task"]), "action": "reject"},
                                    token=dashboard.token)
    assert status == 409 and "done, not held" in answer["error"]


def test_the_event_stream_sends_the_overview_every_refresh(dashboard):
    dashboard.start("--workers", "1")
    port = int(dashboard.url.rsplit(":", 1)[1].strip("/"))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % port)
        seen, start = b"", time.monotonic()
        while seen.count(b"event: overview") < 2:
            chunk = s.recv(65536)
            assert chunk, "the stream ended"
            seen += chunk
        took = time.monotonic() - start
    assert b"text/event-stream" in seen.split(b"\r\n\r\n")[0]
    first = seen.split(b"event: overview\ndata: ")[1].split(b"\n\n")[0]
    assert json.loads(first)["pool"]["pool"] == dashboard.pool
    assert 0.5 < took < 5, f"two events took {took:.2f} s"
