"""Checks every app's pages and endpoints share: a fixed query count whatever the rows, and partner scoping.

Use them in each app's tests, so that no page or endpoint escapes them:

    assert_fixed_queries(client, url, add_rows=lambda n: make_cells(n))
    assert_partner_scoped(client_for(partner), list_url, detail_urls_outside=[...], visible_codes=[...])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext


def count_queries(client: Client, url: str, **headers) -> tuple[int, int]:
    """(number of queries, status code) of one GET."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    return len(queries), response.status_code


def assert_fixed_queries(
    client: Client,
    url: str | Callable[[], str],
    *,
    add_rows: Callable[[int], object],
    sizes: tuple[int, int] = (3, 30),
    **headers,
) -> int:
    """The page costs the same number of queries with ``sizes[0]`` rows as with ``sizes[1]``.

    ``add_rows(n)`` adds n more rows through the services; ``url`` may be a callable for pages whose
    address depends on the data. Returns the count, so a test can also pin it.
    """
    small, large = sizes
    add_rows(small)
    target = url() if callable(url) else url
    client.get(target, **headers)  # warm caches (content types, sessions) so both counts compare like with like
    first, status = count_queries(client, target, **headers)
    assert status == 200, f"{target} answered {status}"
    add_rows(large - small)
    target = url() if callable(url) else url
    second, status = count_queries(client, target, **headers)
    assert status == 200, f"{target} answered {status}"
    assert first == second, f"{target}: {first} queries with {small} rows but {second} with {large}"
    return first


def client_for(user) -> Client:
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return client


def listed_keys(client: Client, list_url: str, *, key: str = "code") -> list:
    """``key`` of every row of an API list, following the cursor through every page."""
    found: list = []
    url: str | None = list_url
    while url:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.content[:500])
        body = response.json()
        found.extend(row[key] for row in body["results"])
        url = body.get("next")
    return found


def assert_partner_scoped(
    client: Client,
    *,
    list_url: str,
    visible_codes: Iterable[str],
    hidden_codes: Iterable[str],
    detail_urls_outside: Iterable[str],
    code_key: str = "code",
) -> None:
    """A partner's list shows exactly the shared rows (``visible_codes``, every page of the list, no row twice);
    none of ``hidden_codes`` appears, and every address outside answers 404."""
    listed = listed_keys(client, list_url, key=code_key)
    assert len(listed) == len(set(listed)), f"{list_url} lists a row twice: {sorted(listed)}"
    assert not set(listed) & set(hidden_codes), f"partner saw {sorted(set(listed) & set(hidden_codes))}"
    missing, extra = set(visible_codes) - set(listed), set(listed) - set(visible_codes)
    assert not missing and not extra, f"{list_url}: missing {sorted(missing)}, not shared but listed {sorted(extra)}"
    for url in detail_urls_outside:
        assert client.get(url).status_code == 404, f"{url} is visible outside the partner's projects"
