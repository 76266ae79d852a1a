"""The dashboard in a real browser: headless Chromium (Debian's), driven
over the DevTools protocol while a real group runs a request. The counts
move and reach the final numbers, a task's page shows its history, an
action works end to end, and the page logs no error. The screenshot it
takes mid-run is docs/dashboard.png's source (dashboard.png in the folder
the test runs in)."""
import os

import pytest

import cdp
from conftest import eventually

COUNT = "(document.querySelector('#count-{} b') || {{}}).textContent"


def cancel_from_overview(dashboard, browser, request, answers="window.confirm = () => true"):
    """Opens the overview and clicks the request's cancel button, the
    dialogs answered by `answers`."""
    browser.navigate(dashboard.url + "#/overview")
    button = f"document.querySelector('[data-cancel=\"{request}\"]')"
    browser.wait_for(button, what=f"request {request} listed with its cancel button")
    browser.evaluate(answers)
    browser.evaluate(button + ".click()")


def number(browser, state):
    text = browser.evaluate(COUNT.format(state))
    return int(text.replace(",", "")) if text else None


@pytest.fixture
def browser():
    b = cdp.Browser()
    b.open_page()
    yield b
    b.close()


def test_the_overview_follows_a_run_and_a_cancel_works_end_to_end(dashboard, browser):
    dashboard.start("--workers", "2", "--handler", "sleep")
    browser.navigate(dashboard.url + "#token=" + dashboard.token)
    browser.wait_for("location.hash === '#/overview' && document.querySelector('#count-done')",
                     what="the overview, with the token taken from the URL")
    assert browser.evaluate("sessionStorage.getItem('slate-token')") == dashboard.token
    browser.wait_for("document.getElementById('live').textContent === 'live'",
                     what="the live stream connected")

    # A request of 40 tasks of 150 ms on 2 workers: about 3 s. The page is
    # never reloaded; the counts come by the stream, once a second.
    rid = dashboard.submit(dashboard.request("r.jsonl", [{"payload": {"ms": 150}}] * 40))
    browser.evaluate("window.__loaded_at = performance.timeOrigin")
    seen = set()

    def progressed():
        done = number(browser, "done")
        seen.add(done)
        if done is not None and 0 < done < 40 and not os.path.exists(shot):
            browser.screenshot(shot)  # mid-run: the request's progress bar
        return done == 40
    shot = os.path.join(os.getcwd(), "dashboard.png")
    if os.path.exists(shot):
        os.remove(shot)
    eventually(progressed, seconds=60, what="the overview's done count reaching 40")
    assert len([d for d in seen if d not in (None, 0, 40)]) >= 1, \
        f"the done count never showed a value between 0 and 40: {sorted(seen, key=str)}"
    browser.wait_for("document.getElementById('no-requests')", what="the request gone from the list")
    assert browser.evaluate("window.__loaded_at === performance.timeOrigin"), "the page reloaded"
    assert number(browser, "pending") == 0 and number(browser, "running") == 0

    # The tasks page, filtered by the request, and one task's page.
    browser.navigate(dashboard.url + f"#/tasks?request={rid}&state=done")
    browser.wait_for("document.querySelectorAll('#tasks tbody tr').length === 40",
                     what="40 done tasks listed")
    browser.evaluate("document.querySelector('#tasks tbody tr').click()")
    browser.wait_for("location.hash.startsWith('#/task/') && document.getElementById('task-facts')",
                     what="a task's page")
    assert "done" in browser.evaluate("document.querySelector('h1').textContent")
    took = browser.evaluate("document.getElementById('task-took').textContent")
    assert "ms queued" in took and "ms running" in took, took

    # A task with a history: two failed attempts, then dead-lettered.
    bad = dashboard.request("bad.jsonl", [{"payload": {"ms": "not a number"}, "max_retries": 1}])
    bad_id = dashboard.submit(bad)
    dead = eventually(lambda: dashboard.get(f"/api/tasks?request={bad_id}&state=dead_lettered")
                      ["items"], what="the bad task dead-lettered")
    browser.navigate(dashboard.url + f"#/task/{dead[0]['id']}")
    browser.wait_for("document.querySelectorAll('#task-history tbody tr').length >= 2",
                     what="the task's failed attempts in its history")
    history = browser.evaluate("document.getElementById('task-history').textContent")
    assert "ms" in history, history
    assert "dead_lettered" in browser.evaluate("document.querySelector('h1').textContent")

    # An action end to end: cancel a running request from the overview.
    slow = dashboard.submit(dashboard.request("slow.jsonl", [{"payload": {"ms": 3000}}] * 6))
    cancel_from_overview(dashboard, browser, slow)
    browser.wait_for("document.getElementById('message').textContent.startsWith('cancelled')",
                     what="the page saying the tasks were cancelled")
    eventually(lambda: number(browser, "cancelled") == 6, what="6 cancelled on the overview")
    cancelled = dashboard.get(f"/api/tasks?request={slow}&state=cancelled")
    assert cancelled["total"] == 6

    browser.navigate(dashboard.url + "#/workers")
    browser.wait_for("document.querySelectorAll('#workers tbody tr').length >= 4",
                     what="the workers, supervisor and coordinator listed")
    browser.navigate(dashboard.url + "#/overview")
    browser.wait_for("document.getElementById('rate-now')", what="the throughput chart")
    assert os.path.exists(shot), "no screenshot was taken mid-run"
    assert browser.console_errors() == []


def test_an_action_without_the_token_is_refused_in_the_page(dashboard, browser):
    dashboard.start("--workers", "1", "--handler", "sleep")
    slow = dashboard.submit(dashboard.request("slow.jsonl", [{"payload": {"ms": 3000}}] * 2))
    # No token in the URL: the page asks for it, and the person types a wrong one.
    cancel_from_overview(dashboard, browser, slow,
                         "window.confirm = () => true; window.prompt = () => 'not-the-token'")
    browser.wait_for("document.getElementById('message').className.includes('error')",
                     what="the refusal shown")
    assert "token" in browser.evaluate("document.getElementById('message').textContent")
    assert dashboard.get(f"/api/tasks?request={slow}&state=cancelled")["total"] == 0
    # A 401 is the server's answer, not a page error.
    errors = [e for e in browser.console_errors() if "401" not in e]
    assert errors == []
