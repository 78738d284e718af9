"""The instruments demo: equipment with one overdue press, a dry-room log with one excursion that flags the batch."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from assbtrack.instruments import demo
from assbtrack.instruments.models import Equipment, ExcursionFlag
from assbtrack.instruments.selectors import equipment_overdue
from tests.utils.factories import traced_item

pytestmark = pytest.mark.django_db


def test_demo_load(project, tech):
    batch, film = traced_item(project=project, user=tech), traced_item(project=project, user=tech)
    context = SimpleNamespace(users={"technician": tech}, items={"sse_batch": batch, "separator_film": film}, log=[])
    demo.load(context)
    assert Equipment.objects.count() == 8
    assert [equipment.name for equipment, _ in equipment_overdue()] == ["Press U1"]
    assert set(ExcursionFlag.objects.values_list("item_id", flat=True)) == {batch.pk}  # open 40–44 h, bump at 42 h
    assert "one excursion" in context.log[0]
