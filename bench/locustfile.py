"""The users of ``bench/load.py`` (locust, headless, loopback only). The plan — who logs in as whom, which houses
and places they work on — comes from the JSON file named by RENFANG_LOAD_PLAN that bench/load.py writes.

* ``GridWorker`` (weight 3): today's list, a house page of their grid, an "unchanged" visit submitted from it;
* ``Officer`` (weight 2): the people list with a grid and a tag filter, a name search, the review queue, the
  community board's data;
* ``ApiClient`` (weight 1): the persons and houses API pages with a token;
* ``Trivial``: ``/healthz/`` only (run alone, for the ratio).

RENFANG_LOAD_WAIT=think gives each user 0.5–1.5 s between requests (people at work); ``none`` none (throughput).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import uuid

from locust import HttpUser, between, constant, task

PLAN = json.loads(open(os.environ["RENFANG_LOAD_PLAN"], encoding="utf-8").read())  # noqa: SIM115
_workers = itertools.cycle(PLAN["workers"])
_officers = itertools.cycle(PLAN["officers"])
_tokens = itertools.cycle(PLAN["tokens"])
# "think": people who read what they opened (0.5–1.5 s between requests); "none": as fast as answers come (the
# throughput runs, the mix and the trivial view alike).
WAIT = between(0.5, 1.5) if os.environ.get("RENFANG_LOAD_WAIT", "think") == "think" else constant(0)
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
VERSION = re.compile(r'name="house_version" value="(\d+)"')


def _login(user: HttpUser, me: dict) -> None:
    """The session bench/load.py opened for this account (the measured runs do not time argon2 logins)."""
    user.client.cookies.set(PLAN["cookie"], me["session"], domain="127.0.0.1")


class GridWorker(HttpUser):
    weight = 3
    wait_time = WAIT

    def on_start(self) -> None:
        me = next(_workers)
        self.houses = me["houses"]
        _login(self, me)

    @task(3)
    def today(self) -> None:
        self.client.get("/fieldwork/today/", name="worker: today")

    @task(4)
    def house(self) -> None:
        self.client.get(f"/fieldwork/houses/{random.choice(self.houses)}/", name="worker: house")

    @task(1)
    def visit(self) -> None:
        pk = random.choice(self.houses)
        page = self.client.get(f"/fieldwork/houses/{pk}/", name="worker: house")
        csrf, version = CSRF.search(page.text), VERSION.search(page.text)
        if not (csrf and version):
            return
        self.client.post(f"/fieldwork/houses/{pk}/", {
            "csrfmiddlewaretoken": csrf.group(1), "client_id": str(uuid.uuid4()), "house_version": version.group(1),
            "unchanged": "on"}, headers={"Referer": f"{self.host}/fieldwork/houses/{pk}/"}, name="worker: visit submit")


class Officer(HttpUser):
    weight = 2
    wait_time = WAIT

    def on_start(self) -> None:
        me = next(_officers)
        self.me = me
        _login(self, me)

    @task(3)
    def filtered_list(self) -> None:
        grid = random.choice(self.me["grids"])
        self.client.get(f"/people/?q=&grid_id={grid}&residency_type=&tag=elderly_alone&is_current=",
                        name="officer: people list filtered")

    @task(3)
    def search(self) -> None:
        self.client.get(f"/people/?q={random.choice(PLAN['surnames'])}", name="officer: search")

    @task(1)
    def review(self) -> None:
        self.client.get("/fieldwork/review/", name="officer: review queue")

    @task(2)
    def board(self) -> None:
        self.client.get(f"/cockpit/community/{self.me['community']}/data.json", name="cockpit: board data")


class ApiClient(HttpUser):
    weight = 1
    wait_time = WAIT

    def on_start(self) -> None:
        self.headers = {"Authorization": f"Token {next(_tokens)}"}

    @task
    def persons(self) -> None:
        self.client.get("/api/people/persons/?page_size=20", headers=self.headers, name="api: persons")

    @task
    def houses(self) -> None:
        self.client.get("/api/places/houses/?page_size=20", headers=self.headers, name="api: houses")


class Trivial(HttpUser):
    weight = 1  # named alone on the command line (the trivial run); the mix runs name the other three
    wait_time = WAIT

    @task
    def healthz(self) -> None:
        self.client.get("/healthz/", name="trivial: healthz")
