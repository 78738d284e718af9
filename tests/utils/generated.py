"""Generated per-model tests: one ``ModelCase`` (how to make a record through its service, where its API list and
pages are) gives a model its permission, partner-scoping, history, export and query-count tests.

    class TestSynthesisBatches(GeneratedModelTests, TestCase):
        case = ModelCase(model=SynthesisBatch, make=lambda project, user: make_batch(project, user),
                         api="sse-batches", pages=("/materials/batches/",), ...)

Every test class shares one database setup (``setUpTestData``): two records in a project shared with the partner,
one in a project that is not, and a user of every role (anonymous, no role, partner, a partner of another
organisation, technician, scientist, superuser). What each role must get:

- the API list and detail: anonymous 401/403, no role 403; lab staff (technician, scientist, superuser) read every
  project; a partner lists exactly the shared records (sets equal) and gets 404 for anything else; a partner of
  another organisation sees none of them. The API refuses every write (405, or 403 before that).
- the web pages (list, detail, create): anonymous is sent to the login, a partner is refused the technician pages
  (or, on the pages partners may read, sees only the shared records), lab staff get 200.
- history: making a record through its service left a django-simple-history row, and a change through a
  service (``change``) leaves another that names who made the change.
- export: ``?export=jsonl`` lists the same rows with the same columns as the API list.
- query counts: the API list and the list pages cost as many queries with 3 records as with 30.

``tests/test_generated_models.py`` fails when a model of the kind registry or of an API list has no test class.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from django.contrib.auth.models import User
from django.db import connection, models
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assbtrack.access.models import ExportLog, Project
from tests.api.helpers import token_client
from tests.utils.checks import assert_partner_scoped, client_for, listed_keys
from tests.utils.factories import PASSWORD, ProjectFactory, partner_for, scientist, technician, user_without_role

API = "/api/v1/"
LOGIN = "/accounts/login/"
ITEM_PAGES = "/items/"  # the item page of every kind, which partners read for their projects

# Every class built from ``GeneratedModelTests``, for the test that no model goes without one.
GENERATED: list[type] = []


@dataclass(frozen=True)
class ModelCase:
    model: type[models.Model]
    # One record in ``project``, made by ``user`` through the services (the tests/utils factories).
    make: Callable[[Project, User], models.Model]
    api: str  # the API list: /api/v1/<api>/
    key: str = "code"  # the field of an API row that names the record
    key_of: Callable[[Any], Any] = lambda record: record.item.code
    # ``n`` more records at once, for the query-count test (default: ``make`` n times)
    make_many: Callable[[Project, User, int], Sequence[models.Model]] | None = None
    # a change through a service by ``user``, and the record whose history it writes (default: the record)
    change: Callable[[Any, User], models.Model | None] | None = None
    # web pages: lists, the detail of a record, the create form
    pages: tuple[str, ...] = ()
    page_of: Callable[[Any], str] | None = None
    new_page: str | None = None
    partner_pages: bool = False  # the pages are for partners too (scoped to their projects)
    api_writable_by_staff: bool = False  # the API takes a POST from lab staff (jobs are submitted there)
    history: bool = True  # a domain table (every change kept); False only for the job rows, which keep their own
    export: bool = True  # the list streams ``?export=csv|jsonl``


class GeneratedModelTests:
    """The tests every model gets; mix it into a ``django.test.TestCase`` and set ``case``."""

    case: ClassVar[ModelCase]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "case" in cls.__dict__:
            GENERATED.append(cls)

    @classmethod
    def setUpTestData(cls):
        cls.project, cls.other_project, cls.third_project = ProjectFactory(), ProjectFactory(), ProjectFactory()
        cls.tech, cls.sci = technician(), scientist()
        cls.admin = User.objects.create_superuser(username=f"admin-{cls.__name__}", password=PASSWORD)
        cls.partner = partner_for(cls.project)
        cls.outsider = partner_for(cls.third_project)
        cls.norole = user_without_role()
        cls.shared = [cls.case.make(cls.project, cls.tech) for _ in range(2)]
        cls.hidden = [cls.case.make(cls.other_project, cls.tech)]

    # ------------------------------------------------------------------------------------------ helpers

    def keys(self, records) -> set:
        return {self.case.key_of(record) for record in records}

    def list_url(self) -> str:
        return f"{API}{self.case.api}/"

    def detail_url(self, record) -> str:
        return f"{self.list_url()}{self.case.key_of(record)}/"

    def staff(self) -> list[User]:
        return [self.tech, self.sci, self.admin]

    # ---------------------------------------------------------------------------------------------- API

    def test_api_refuses_anonymous_and_accounts_without_a_role(self):
        for client in (Client(), client_for(self.norole)):
            for url in (self.list_url(), self.detail_url(self.shared[0])):
                status = client.get(url).status_code
                assert status in (401, 403), (url, status)

    def test_api_lab_staff_read_every_project(self):
        everything = self.keys(self.shared + self.hidden)
        for user in self.staff():
            client = token_client(user)
            listed = listed_keys(client, self.list_url(), key=self.case.key)
            assert sorted(listed, key=str) == sorted(everything, key=str), (user.username, listed)
            assert client.get(self.detail_url(self.hidden[0])).status_code == 200, user.username

    def test_api_partner_sees_exactly_the_shared_records(self):
        client = token_client(self.partner)
        assert_partner_scoped(
            client, list_url=self.list_url(), visible_codes=self.keys(self.shared), hidden_codes=self.keys(self.hidden),
            detail_urls_outside=[self.detail_url(record) for record in self.hidden], code_key=self.case.key,
        )
        for record in self.shared:
            response = client.get(self.detail_url(record))
            assert response.status_code == 200, response.content[:300]
            assert response.json()[self.case.key] == self.case.key_of(record)

    def test_api_partner_of_another_organisation_sees_none_of_them(self):
        client = token_client(self.outsider)
        assert listed_keys(client, self.list_url(), key=self.case.key) == []
        for record in self.shared + self.hidden:
            assert client.get(self.detail_url(record)).status_code == 404

    def test_api_takes_no_writes(self):
        count = self.case.model._default_manager.count()
        url, detail = self.list_url(), self.detail_url(self.shared[0])
        users = [self.partner] + ([] if self.case.api_writable_by_staff else self.staff())
        for user in users:
            client = token_client(user)
            answers = [client.post(url, {}, content_type="application/json").status_code,
                       client.put(detail, {}, content_type="application/json").status_code,
                       client.patch(detail, {}, content_type="application/json").status_code,
                       client.delete(detail).status_code]
            assert all(status in (403, 405) for status in answers), (user.username, answers)
        assert self.case.model._default_manager.count() == count

    # -------------------------------------------------------------------------------------------- pages

    def _page_urls(self) -> list[str]:
        urls = list(self.case.pages)
        if self.case.page_of is not None:
            urls += [self.case.page_of(self.shared[0]), self.case.page_of(self.hidden[0])]
        if self.case.new_page is not None:
            urls.append(self.case.new_page)
        return urls

    def test_pages_send_anonymous_to_the_login(self):
        client = Client()
        for url in self._page_urls():
            response = client.get(url)
            assert response.status_code == 302 and response["Location"].startswith(LOGIN), (url, response.status_code)

    def test_pages_answer_lab_staff(self):
        for user in self.staff():
            client = client_for(user)
            for url in self._page_urls():
                assert client.get(url).status_code == 200, (user.username, url)

    def test_pages_refuse_partners_or_show_them_only_the_shared_records(self):
        client = client_for(self.partner)
        if self.case.page_of is not None and (self.case.partner_pages or self.case.page_of(self.shared[0]).startswith(
                ITEM_PAGES)):
            # item pages are for partners too: the shared record's answers, another project's does not exist
            assert client.get(self.case.page_of(self.shared[0])).status_code == 200
            assert client.get(self.case.page_of(self.hidden[0])).status_code == 404
        elif self.case.page_of is not None:
            assert client.get(self.case.page_of(self.shared[0])).status_code == 403
        if self.case.new_page is not None:
            assert client.get(self.case.new_page).status_code == 403
        if not self.case.partner_pages:
            for url in self.case.pages:
                assert client.get(url).status_code == 403, url
            return
        for url in self.case.pages:
            response = client.get(url)
            assert response.status_code == 200, url
            page = response.content.decode()
            for record in self.hidden:  # no link to another project's record
                link = self.case.page_of(record) if self.case.page_of else f"/{self.case.key_of(record)}/"
                assert link not in page, (url, link)

    def test_pages_refuse_accounts_without_a_role(self):
        """Refused, or (a list any signed-in user may open) shown without a single record."""
        client = client_for(self.norole)
        for url in self._page_urls():
            response = client.get(url)
            if url in self.case.pages and response.status_code == 200:
                page = response.content.decode()
                for record in self.shared + self.hidden:
                    link = self.case.page_of(record) if self.case.page_of else f"/{self.case.key_of(record)}/"
                    assert link not in page, (url, link)
                continue
            assert response.status_code in (403, 404), (url, response.status_code)

    # ------------------------------------------------------------------------------------------ history

    def test_history_keeps_the_record_and_who_changed_it(self):
        if not self.case.history:
            assert not hasattr(self.case.model, "history"), "the model keeps history: say so in its case"
            return
        record = self.shared[0]
        made = record.history.order_by("history_date", "history_id").first()
        assert made is not None and made.history_type == "+", "making the record left no history row"
        if self.case.change is None:
            return
        before = timezone.now()
        changed = self.case.change(record, self.sci) or record
        latest = changed.history.order_by("-history_date", "-history_id").first()
        assert latest is not None and latest.history_date >= before, "the change left no history row"
        # A service outside a page cannot tell simple-history who it is for a new row (a correction is one):
        # the row itself names its author then.
        who = latest.history_user_id or (getattr(latest, "created_by_id", None) if latest.history_type == "+" else None)
        assert who == self.sci.pk, f"the change's history row names {latest.history_user} as its author"

    # ------------------------------------------------------------------------------------------- export

    def test_export_lists_what_the_api_lists(self):
        if not self.case.export:
            assert "ExportMixin" not in {base.__name__ for base in self._viewset().__mro__}, "say export=True"
            return
        client = token_client(self.partner)
        rows = self._api_rows(client)
        logged = ExportLog.objects.count()
        response = client.get(self.list_url(), {"export": "jsonl"})
        assert response.status_code == 200
        exported = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines() if line]
        assert sorted(row[self.case.key] for row in exported) == sorted(row[self.case.key] for row in rows)
        assert {tuple(row) for row in exported} == {tuple(row) for row in rows}, "the export has other columns"
        assert ExportLog.objects.count() == logged + 1
        assert ExportLog.objects.order_by("-pk").first().rows == len(rows)

    def _viewset(self) -> type:
        from assbtrack.api.urls import router

        return next(viewset for prefix, viewset, _name in router.registry if prefix == self.case.api)

    def _api_rows(self, client: Client) -> list[dict]:
        rows, url = [], self.list_url()
        while url:
            body = client.get(url).json()
            rows += body["results"]
            url = body.get("next")
        return rows

    # ------------------------------------------------------------------------------------ query counts

    def test_query_counts_do_not_grow_with_the_rows(self):
        """3 records, then 30, in the shared project: the same number of queries for each list."""
        targets = [(token_client(self.partner), self.list_url())]
        targets += [(client_for(self.tech), url) for url in self.case.pages]
        make_many = self.case.make_many or (
            lambda project, user, n: [self.case.make(project, user) for _ in range(n)])
        make_many(self.project, self.tech, 3 - len(self.shared))
        small = [self._count(client, url) for client, url in targets]
        make_many(self.project, self.tech, 27)
        large = [self._count(client, url) for client, url in targets]
        urls = [url for _client, url in targets]
        assert small == large, f"queries with 3 records → 30 records: {list(zip(urls, small, large, strict=True))}"

    @staticmethod
    def _count(client: Client, url: str) -> int:
        client.get(url)  # warm what a first request caches (content types, the session)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return len(queries)

