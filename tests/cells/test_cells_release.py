"""A cell is released only once it has been densified; the refusal says why, on the item page too."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from assbtrack.tracing.choices import ItemStatus
from assbtrack.tracing.services import item_release
from cells.choices import DensificationMethod
from cells.services import cell_densification_record
from tests.utils.checks import client_for
from tests.utils.factories import PASSWORD
from tests.utils.factories_cells import make_cell

pytestmark = pytest.mark.django_db


def test_an_undensified_cell_is_not_released(project, tech, sci):
    cell = make_cell(project, tech)
    with pytest.raises(ValidationError) as refused:
        item_release(item=cell.item, user=sci)
    assert "no densification recorded" in refused.value.message_dict["status"][0]
    cell.item.refresh_from_db()
    assert cell.item.status == ItemStatus.DRAFT and not cell.item.status_events.exists()
    # the item page says so before anyone tries
    page = client_for(sci).get(f"/items/{cell.item.code}/").content.decode()
    assert "no densification recorded" in page

    cell_densification_record(cell=cell, user=tech, method=DensificationMethod.ISOSTATIC, pressure_mpa=500.0,
                              hold_time_min=5.0)
    response = client_for(sci).post(f"/items/{cell.item.code}/release/",
                                    {"reason": "pressed and checked", "password": PASSWORD})
    assert response.status_code == 302
    cell.item.refresh_from_db()
    assert cell.item.status == ItemStatus.RELEASED
    assert cell.item.status_events.get().signed
