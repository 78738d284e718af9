"""The load test's users (run by ``bench/load.py``, i.e. ``make load``; never against anything but 127.0.0.1).

A partner reads the API with a token (lists at 50 and 500 rows, details, a lineage trace); a technician
browses the pages with a session (dashboard, item pages). The whole run stops after LOAD_MAX_REQUESTS
requests, or at --run-time, whichever comes first.
"""

from __future__ import annotations

import os
import random

from locust import HttpUser, between, events, task

TOKEN = os.environ.get("LOAD_TOKEN", "")
CODES = [code for code in os.environ.get("LOAD_CODES", "").split(",") if code]
LIST_PATHS = [path for path in os.environ.get("LOAD_LIST_PATHS", "/api/v1/items/").split(",") if path]
USERNAME = os.environ.get("LOAD_USERNAME", "")
PASSWORD = os.environ.get("LOAD_PASSWORD", "")
MAX_REQUESTS = int(os.environ.get("LOAD_MAX_REQUESTS", "20000"))
_sent = {"requests": 0}


@events.request.add_listener
def _stop_at_the_cap(**_kwargs) -> None:
    _sent["requests"] += 1
    if _sent["requests"] == MAX_REQUESTS:
        from locust.runners import STATE_STOPPING

        runner = _environment.get("runner")
        if runner is not None and runner.state != STATE_STOPPING:
            runner.quit()


_environment: dict = {}


@events.init.add_listener
def _keep_runner(environment, **_kwargs) -> None:
    _environment["runner"] = environment.runner


class Partner(HttpUser):
    weight = 3
    wait_time = between(0, 0.02)

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Token {TOKEN}"

    @task(4)
    def list_50(self) -> None:
        path = random.choice(LIST_PATHS)
        self.client.get(f"{path}?page_size=50", name="API lists, 50 rows")

    @task(1)
    def list_500(self) -> None:
        path = random.choice(LIST_PATHS)
        self.client.get(f"{path}?page_size=500", name="API lists, 500 rows")

    @task(3)
    def detail(self) -> None:
        self.client.get(f"/api/v1/items/{random.choice(CODES)}/", name="API item detail")

    @task(1)
    def upstream(self) -> None:
        self.client.get(f"/api/v1/items/{random.choice(CODES)}/upstream/", name="API upstream trace")


class Technician(HttpUser):
    weight = 1
    wait_time = between(0, 0.05)

    def on_start(self) -> None:
        self.client.get("/accounts/login/", name="login page")
        token = self.client.cookies.get("csrftoken", "")
        self.client.post("/accounts/login/", {"username": USERNAME, "password": PASSWORD,
                                              "csrfmiddlewaretoken": token},
                         headers={"Referer": f"{self.host}/accounts/login/"}, name="log in")

    @task(1)
    def dashboard(self) -> None:
        self.client.get("/", name="page: dashboard")

    @task(4)
    def item_page(self) -> None:
        self.client.get(f"/items/{random.choice(CODES)}/", name="page: item")
