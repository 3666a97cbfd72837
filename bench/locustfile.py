"""Locust users for `bench.load`: each signs in once through the login form, then asks for one page as
fast as the server answers (no think time).

The measured window opens when every user has signed in (the statistics are reset then, so the
logins' password hashing is not counted) and lasts BENCH_SECONDS; the figures are then written to
BENCH_OUTPUT as JSON and Locust stops. A response counts as an error unless it is a 200 showing
the page's own heading: a redirect to the login page is an error, not a fast page.

Configured by the environment (bench.load sets it): BENCH_SCENARIO (floor, caseload,
learner_home), BENCH_ACCOUNTS (JSON list of usernames, shared out in turn), BENCH_PASSWORD,
BENCH_USERS, BENCH_SECONDS, BENCH_OUTPUT.
"""

import itertools
import json
import os
import re
import time
from pathlib import Path

import gevent
from locust import FastHttpUser, constant, events, task
from locust.env import Environment

SCENARIOS = {
    # name: (path, text the page must contain)
    "floor": ("/bench/floor/", 'data-testid="who"'),
    "caseload": ("/caseload/", '<h1 class="h2">Your caseload</h1>'),
    "learner_home": ("/", '<h1 class="h2">Hello,'),
}
SCENARIO = os.environ.get("BENCH_SCENARIO", "floor")
PATH, MARKER = SCENARIOS[SCENARIO]
ACCOUNTS = itertools.cycle(json.loads(os.environ.get("BENCH_ACCOUNTS", '["learner"]')))
PASSWORD = os.environ.get("BENCH_PASSWORD", "demo-portfolio")
USERS = int(os.environ.get("BENCH_USERS", "1"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))
OUTPUT = Path(os.environ.get("BENCH_OUTPUT", "locust-result.json"))
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

signed_in: list[str] = []
login_failures: list[str] = []


class PageUser(FastHttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        username = next(ACCOUNTS)
        try:
            form = self.client.get("/accounts/login/", name="login form")
            match = TOKEN.search(form.text or "")
            token = match.group(1) if match else ""
            with self.client.post(
                "/accounts/login/",
                data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
                name="login",
                allow_redirects=False,
                catch_response=True,
            ) as answer:
                if answer.status_code != 302:
                    answer.failure(f"login as {username}: HTTP {answer.status_code}")
                    login_failures.append(username)
        finally:
            signed_in.append(username)
            if len(signed_in) == USERS:
                gevent.spawn(_measure, self.environment)

    @task
    def page(self) -> None:
        with self.client.get(PATH, name=SCENARIO, allow_redirects=False, catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(f"HTTP {answer.status_code}")
            elif MARKER not in (answer.text or ""):
                answer.failure("not the expected page")


def _measure(environment: Environment) -> None:
    """Every user is signed in: reset the statistics, wait out the window, write the figures, stop."""
    runner = environment.runner
    assert runner is not None
    runner.stats.reset_all()
    started = time.monotonic()
    gevent.sleep(SECONDS)
    window = time.monotonic() - started
    entry = runner.stats.get(SCENARIO, "GET")
    result = {
        "scenario": SCENARIO,
        "path": PATH,
        "users": USERS,
        "window_s": round(window, 2),
        "requests": entry.num_requests,
        "errors": entry.num_failures + len(login_failures),
        "requests_per_s": round(entry.num_requests / window, 2),
        "median_ms": entry.median_response_time,
        "p95_ms": entry.get_response_time_percentile(0.95),
        "mean_ms": round(entry.avg_response_time, 1),
        "max_ms": entry.max_response_time,
        "error_messages": {str(e.error): e.occurrences for e in runner.stats.errors.values()},
        "login_failures": login_failures,
        "exceptions": len(runner.exceptions),
    }
    OUTPUT.write_text(json.dumps(result, indent=2) + "\n")
    runner.quit()


@events.init.add_listener
def _check(environment: Environment, **_: object) -> None:
    signed_in.clear()
    login_failures.clear()
