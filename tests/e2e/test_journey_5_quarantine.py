"""Journey 5: a scientist quarantines an SSE batch; the cell and module built from it show as affected, and
the recall (impact) report lists them. The chain is built through the services; the hold is done through
the pages only, at tablet width, with the keyboard for the form."""

from __future__ import annotations

import pytest

from assbtrack.tracing.choices import ItemKind, ItemStatus
from assbtrack.tracing.models import TracedItem
from assbtrack.tracing.selectors import lineage_upstream
from tests.utils.factories import PASSWORD, scientist, technician
from tests.utils.factories_modules import make_module

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


def test_quarantined_batch_marks_its_cell_and_module_affected(journey, project):
    tech, sci = technician(), scientist()
    module = make_module(project, tech, cell_count=1)
    upstream = lineage_upstream(module.item, user=sci).nodes.values()
    batch_code = next(node.code for node in upstream if node.kind == ItemKind.SSE_BATCH)
    cell_code = next(node.code for node in upstream if node.kind == ItemKind.CELL)

    tab = journey("journey-5")
    tab.login(sci.username, PASSWORD)
    page = tab.go(f"/items/{batch_code}/")
    tab.shot("batch")
    # a quarantine without the signature is refused and changes nothing
    page.fill("#id_reason", "moisture ingress in the glovebox")
    with page.expect_navigation():
        page.click("#status-form button.warn")
    assert TracedItem.objects.get(code=batch_code).status != ItemStatus.QUARANTINED
    # signed, with the keyboard: reason, Tab to the password, then the Quarantine button
    page.focus("#id_reason")
    page.keyboard.press("Control+A")
    page.keyboard.type("moisture ingress in the glovebox")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.focus("#status-form button.warn")
    with page.expect_navigation():  # the page is already at this address: wait for the new load
        page.keyboard.press("Enter")
    page.locator(".msg-success").wait_for()
    assert "quarantined" in page.inner_text("main")
    assert TracedItem.objects.get(code=batch_code).status == ItemStatus.QUARANTINED
    tab.shot("batch-quarantined")

    for code in (cell_code, module.item.code):
        tab.go(f"/items/{code}/")
        banner = page.locator(".banner.affected")
        assert banner.count() == 1, code
        assert batch_code in banner.inner_text()
        tab.shot(f"affected-{code}")

    tab.go(f"/items/{batch_code}/impact/")
    report = page.inner_text("main")
    assert cell_code in report and module.item.code in report
    tab.shot("recall-report")
