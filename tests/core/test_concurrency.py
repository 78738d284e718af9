"""Concurrent writers, each in its own thread with its own database connection.

PostgreSQL is where concurrency is real (row locks); SQLite serialises writers with IMMEDIATE
transactions and a busy timeout, and the same tests must hold there too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Sum

from assbtrack.tracing.choices import KIND_PREFIX, ItemKind, ItemStatus
from assbtrack.tracing.models import CodeCounter, LineageEdge, TracedItem
from assbtrack.tracing.services import item_create, item_release
from tests.utils.factories import release_checks_set_aside, traced_item, use

THREADS = 8


@pytest.fixture(autouse=True)
def _core_release_rules_only():
    """These tests release bare items: the domain apps' QC checks (which need a domain record) are set aside."""
    with release_checks_set_aside():
        yield


def run_together(work: Callable[[int], object], n: int) -> tuple[dict[int, object], dict[int, BaseException]]:
    """Run ``work(i)`` for i in 0..n-1 in n threads released at once; results and errors by i."""
    barrier = threading.Barrier(n)
    results: dict[int, object] = {}
    errors: dict[int, BaseException] = {}

    def target(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except BaseException as error:  # noqa: BLE001  (every outcome is checked by the test)
            errors[i] = error
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results, errors


def only_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks are only meaningful on PostgreSQL")


def concurrent_consumption(project, tech, sci) -> None:
    quantity, take = Decimal("10"), Decimal("3")
    lot = traced_item(project=project, user=tech, quantity=quantity, unit="g")
    item_release(item=lot, user=sci)
    children = [traced_item(project=project, user=tech, kind=ItemKind.SSE_BATCH) for _ in range(THREADS)]

    results, errors = run_together(lambda i: use(lot, children[i], user=tech, amount=take, unit="g"), THREADS)

    winners = int(quantity // take)
    assert len(results) == winners
    assert len(errors) == THREADS - winners
    for error in errors.values():
        assert isinstance(error, ValidationError), repr(error)
        assert "left" in error.message_dict["amount"][0]
    used = LineageEdge.objects.filter(parent=lot).aggregate(total=Sum("amount"))["total"]
    lot.refresh_from_db()
    assert used == lot.quantity_used == winners * take <= lot.quantity
    assert lot.status == ItemStatus.RELEASED  # 1 g is still left


def concurrent_codes(project, tech) -> None:
    kind = ItemKind.CELL
    start = CodeCounter.objects.filter(kind=kind).values_list("last_number", flat=True).first() or 0
    failing = {1, 4, 6}  # these allocate a code, then fail validation: their numbers must come back

    def create(i: int) -> str:
        quantity = Decimal("1e12") if i in failing else Decimal("1")  # 1e12 exceeds the column's digits
        return item_create(kind=kind, project=project, user=tech, quantity=quantity, unit="pcs").code

    results, errors = run_together(create, THREADS)

    assert set(errors) == failing
    assert all("quantity" in error.message_dict for error in errors.values()), errors
    made = THREADS - len(failing)
    expected = {f"{KIND_PREFIX[kind]}-{number:06d}" for number in range(start + 1, start + made + 1)}
    assert sorted(results.values()) == sorted(expected)
    assert set(TracedItem.objects.filter(kind=kind).values_list("code", flat=True)) == expected
    assert CodeCounter.objects.get(kind=kind).last_number == start + made


def concurrent_closing_uses(project, tech, *, cycle: int) -> None:
    """Groups of items where two uses made at once would close a cycle; in each group one must be refused.

    cycle=2: a and b, used in each other at once. cycle=4: b used a and d used c already; then, at once,
    c uses b and a uses d (a → b → c → d → a). The loser gets a ValidationError naming the cycle: not a
    database error, and never a cycle in the graph.
    """
    groups = []
    for _ in range(THREADS // 2):
        items = [traced_item(project=project, user=tech) for _ in range(cycle)]
        if cycle == 2:
            closing = [(items[0], items[1]), (items[1], items[0])]
        else:
            use(items[0], items[1], user=tech, amount="1")
            use(items[2], items[3], user=tech, amount="1")
            closing = [(items[1], items[2]), (items[3], items[0])]
        groups.append((items, closing))

    def work(i: int):
        parent, child = groups[i // 2][1][i % 2]
        return use(parent, child, user=tech, amount="1")

    results, errors = run_together(work, THREADS)

    for error in errors.values():
        assert isinstance(error, ValidationError), repr(error)
        assert "cycle" in error.message_dict["parent"][0]
    for items, _ in groups:
        edges = LineageEdge.objects.filter(parent__in=items, child__in=items).count()
        assert edges == cycle - 1, f"{', '.join(item.code for item in items)} form a cycle"
    assert len(results) == len(errors) == len(groups)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("cycle", [2, 4])
def test_concurrent_uses_never_close_a_cycle_postgres(project, tech, cycle):
    only_postgres()
    concurrent_closing_uses(project, tech, cycle=cycle)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("cycle", [2, 4])
def test_concurrent_uses_never_close_a_cycle_sqlite(project, tech, cycle):
    if connection.vendor != "sqlite":
        pytest.skip("the PostgreSQL variant covers this")
    concurrent_closing_uses(project, tech, cycle=cycle)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_uses_never_overdraw_a_parent_postgres(project, tech, sci):
    only_postgres()
    concurrent_consumption(project, tech, sci)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_creation_gives_distinct_gap_free_codes_postgres(project, tech):
    only_postgres()
    concurrent_codes(project, tech)


@pytest.mark.django_db(transaction=True)
def test_concurrent_creation_gives_distinct_gap_free_codes_sqlite(project, tech):
    if connection.vendor != "sqlite":
        pytest.skip("the PostgreSQL variant covers this")
    concurrent_codes(project, tech)


@pytest.mark.django_db(transaction=True)
def test_concurrent_uses_never_overdraw_a_parent_sqlite(project, tech, sci):
    if connection.vendor != "sqlite":
        pytest.skip("the PostgreSQL variant covers this")
    concurrent_consumption(project, tech, sci)


@pytest.mark.django_db
def test_a_failed_creation_gives_its_number_back(project, tech):
    first = item_create(kind=ItemKind.MODULE, project=project, user=tech)
    with pytest.raises(ValidationError):
        item_create(kind=ItemKind.MODULE, project=project, user=tech, quantity=Decimal("1e12"), unit="pcs")
    second = item_create(kind=ItemKind.MODULE, project=project, user=tech)
    number = int(first.code.split("-")[1])
    assert first.code.startswith(f"{KIND_PREFIX[ItemKind.MODULE]}-")
    assert second.code == f"{KIND_PREFIX[ItemKind.MODULE]}-{number + 1:06d}"
    other_kind = item_create(kind=ItemKind.ANODE_FILM, project=project, user=tech)
    assert other_kind.code == f"{KIND_PREFIX[ItemKind.ANODE_FILM]}-000001"
