"""Journey 2: a technician makes a dry cathode film and a dry separator film from released demo lots and
batches, rolls the cathode pass by pass, records its result and cuts sheets from it.

Everything is done through the pages at tablet width; the database is only read to check what the pages
stored. A pass that would leave the film thicker is refused beside its field and writes nothing; the fifth
component row and the sheet cut are done with the keyboard alone.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from assbtrack.tracing.choices import ItemKind, ItemStatus, LineageRole
from assbtrack.tracing.models import LineageEdge, TracedItem
from electrodes.models import CalenderingPass, Film, Sheet
from tests.e2e.steps import PROJECT, TECHNICIAN, heading_code

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]



def released_lot_code(tab, query: str, chemical: str) -> str:
    """A demo lot's code, as the technician finds it: search the lot list, take the released row."""
    page = tab.go(f"/materials/lots/?q={query}")
    row = page.locator("tbody tr", has_text=chemical)
    assert row.count() == 1 and row.locator(".status").inner_text() == "Released"
    return row.locator("td a").first.inner_text().strip()


def released_batch_codes(tab, composition: str) -> dict[str, str]:
    """Released batches of ``composition`` by their milling time (h), read from the batch list."""
    page = tab.go(f"/materials/batches/?q={composition}&status=released")
    codes = {}
    for row in page.locator("tbody tr").all():
        cells = row.locator("td")
        codes[cells.nth(3).inner_text().strip()] = cells.nth(0).inner_text().strip()
    return codes


def fill_film(page, *, kind: str, area_cm2: str, rows: list[tuple[str, str]]) -> None:
    page.select_option("#id_project", label=PROJECT)
    page.select_option("#id_kind", kind)
    page.select_option("#id_process", "dry")
    page.fill("#id_area_cm2", area_cm2)
    page.select_option("#id_mixer_type", "planetary_centrifugal")
    page.fill("#id_mixing_speed_rpm", "2000")
    page.fill("#id_mixing_time_s", "120")
    for index, (code, mass_g) in enumerate(rows):
        page.fill(f"#id_components-{index}-source_code", code)
        page.fill(f"#id_components-{index}-mass_g", mass_g)


def add_pass(page, *, kind: str, roll_temperature_c: str, gap_um: str, line_force_n_per_mm: str,
             speed_m_per_min: str, thickness_um: str) -> None:
    # scoped to the pass form: the result form on the same page also has an #id_thickness_um
    form = page.locator("#pass-form")
    form.locator("#id_kind").select_option(kind)
    form.locator("#id_roll_temperature_c").fill(roll_temperature_c)
    form.locator("#id_gap_um").fill(gap_um)
    form.locator("#id_line_force_n_per_mm").fill(line_force_n_per_mm)
    form.locator("#id_speed_m_per_min").fill(speed_m_per_min)
    form.locator("#id_thickness_um").fill(thickness_um)
    form.locator("#id_equipment").select_option(label="Calender 1")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()


def test_cathode_and_separator_films_passes_and_sheets(journey, demo):
    tab = journey("journey-2")
    tab.login(*TECHNICIAN)
    ncm = released_lot_code(tab, "LiNi0.8", "LiNi0.8Co0.1Mn0.1O2 (single crystal)")
    carbon = released_lot_code(tab, "carbon", "Vapour-grown carbon fibre")
    ptfe = released_lot_code(tab, "PTFE", "PTFE binder powder")
    batches = released_batch_codes(tab, "Li6PS5Cl")
    sse_main, sse_top_up = batches["2"], batches["1"]  # the 2 h scale-up batch, topped up from the 1 h one
    tab.shot("released-batches")

    # 1. the cathode film: four components in the rows shown, a fifth in a row added by the keyboard
    page = tab.go("/electrodes/")
    with page.expect_navigation():
        page.click("main a:has-text('New film')")
    assert page.url.endswith("/electrodes/films/new/")
    offered = page.eval_on_selector_all("#film-sources option", "options => options.map(o => o.value)")
    assert {ncm, carbon, ptfe, sse_main, sse_top_up} <= set(offered)
    assert page.locator("#component-rows .component-row").count() == 4
    fill_film(page, kind=ItemKind.CATHODE_FILM, area_cm2="80",
              rows=[(ncm, "1.6"), (sse_main, "0.27"), (carbon, "0.02"), (ptfe, "0.01")])
    page.fill("#id_batch_size_g", "2")
    page.focus("#add-component")
    page.keyboard.press("Enter")
    assert page.locator("#component-rows .component-row").count() == 5
    assert page.input_value("#id_components-TOTAL_FORMS") == "5"
    assert page.evaluate("document.activeElement.id") == "id_components-4-source_code"
    page.keyboard.type(sse_top_up)
    page.keyboard.press("Tab")
    page.keyboard.type("0.1")
    assert page.text_content("#mass-total") == "2.0000"
    assert page.text_content("#component-rows .component-row:nth-child(1) output.share") == "80.00"
    tab.shot("cathode-form")
    with page.expect_navigation():  # Enter in the mass field sends the form
        page.keyboard.press("Enter")
    cathode_code = heading_code(page)
    assert cathode_code.startswith("CAT-")
    assert f"{cathode_code} recorded; add its passes next." in page.inner_text(".msg-success")
    components_table = page.locator("section", has_text="Components").locator("tbody tr")
    assert components_table.count() == 5
    cathode = Film.objects.select_related("item").get(item__code=cathode_code)
    assert (cathode.item.kind, cathode.process, cathode.area_cm2, cathode.mixing_speed_rpm) == (
        ItemKind.CATHODE_FILM, "dry", 80.0, 2000.0)
    assert cathode.item.quantity == Decimal("80")
    stored = {c.source.code: (c.mass_g, c.role) for c in cathode.components.select_related("source")}
    assert stored == {
        ncm: (1.6, LineageRole.ACTIVE_MATERIAL), sse_main: (0.27, LineageRole.ELECTROLYTE),
        carbon: (0.02, LineageRole.CONDUCTIVE_ADDITIVE), ptfe: (0.01, LineageRole.BINDER),
        sse_top_up: (0.1, LineageRole.ELECTROLYTE),
    }
    edges = {edge.parent.code: edge.amount for edge in cathode.item.edges_in.select_related("parent")}
    assert edges == {ncm: Decimal("1.6"), sse_main: Decimal("0.27"), carbon: Decimal("0.02"),
                     ptfe: Decimal("0.01"), sse_top_up: Decimal("0.1")}
    tab.shot("cathode-recorded")

    # 2. the separator film: two components, the other rows shown left empty
    page = tab.go("/electrodes/films/new/")
    fill_film(page, kind=ItemKind.SEPARATOR_FILM, area_cm2="380", rows=[(sse_main, "1.99"), (ptfe, "0.01")])
    page.fill("#id_batch_size_g", "2")
    tab.shot("separator-form")
    with page.expect_navigation():
        page.click("#film-form button[type=submit]")
    assert page.locator(".field.has-error").count() == 0, page.inner_text("main")
    separator_code = heading_code(page)
    assert separator_code.startswith("SEP-")
    separator = Film.objects.select_related("item").get(item__code=separator_code)
    assert separator.item.kind == ItemKind.SEPARATOR_FILM and separator.area_cm2 == 380.0
    assert {c.source.code: c.mass_g for c in separator.components.select_related("source")} == {
        sse_main: 1.99, ptfe: 0.01}
    tab.shot("separator-recorded")

    # 3. the cathode rolled pass by pass: shear, then calender
    page = tab.go(f"/electrodes/films/{cathode_code}/")
    add_pass(page, kind="shear", roll_temperature_c="90", gap_um="250", line_force_n_per_mm="40",
             speed_m_per_min="0.5", thickness_um="310")
    assert "Pass 1 recorded (310 µm)." in page.inner_text(".msg-success")
    add_pass(page, kind="calender", roll_temperature_c="110", gap_um="145", line_force_n_per_mm="80",
             speed_m_per_min="1", thickness_um="180")
    assert "Pass 2 recorded (180 µm)." in page.inner_text(".msg-success")
    tab.shot("two-passes")

    # a pass that would leave it thicker than the pass before is refused beside the thickness
    passes = CalenderingPass.objects.count()
    add_pass(page, kind="calender", roll_temperature_c="110", gap_um="70", line_force_n_per_mm="120",
             speed_m_per_min="1", thickness_um="200")
    error = page.locator("#pass-form #id_thickness_um-error")
    assert "200 µm is thicker than after pass 2 (180 µm)" in error.inner_text()
    assert page.locator(".field.has-error").count() == 1
    assert page.input_value("#pass-form #id_gap_um") == "70"  # what was typed is kept
    assert CalenderingPass.objects.count() == passes
    tab.shot("pass-refused")

    page.fill("#pass-form #id_thickness_um", "82")
    with page.expect_navigation():
        page.click("#pass-form button[type=submit]")
    assert "Pass 3 recorded (82 µm)." in page.inner_text(".msg-success")
    pass_rows = page.locator("#passes tbody tr")
    assert pass_rows.count() == 3
    assert "145" in pass_rows.nth(1).inner_text() and "82" in pass_rows.nth(2).inner_text()
    stored_passes = list(cathode.passes.order_by("pass_number").values_list(
        "pass_number", "kind", "gap_um", "thickness_um", "equipment__name"))
    assert stored_passes == [(1, "shear", 250.0, 310.0, "Calender 1"), (2, "calender", 145.0, 180.0, "Calender 1"),
                             (3, "calender", 70.0, 82.0, "Calender 1")]
    tab.shot("three-passes")

    # 4. the result: 80 µm, 1.92 g, free-standing
    result = page.locator("#result-form")
    result.locator("#id_thickness_um").fill("80")
    result.locator("#id_mass_g").fill("1.92")
    result.locator("input[name=free_standing][value=yes]").check()
    assert result.locator('[data-live="loading"]').inner_text() == "24.00"
    with page.expect_navigation():
        result.locator("button[type=submit]").click()
    assert f"Result of {cathode_code} recorded." in page.inner_text(".msg-success")
    cathode.refresh_from_db()
    assert (cathode.thickness_um, cathode.mass_g, cathode.free_standing) == (80.0, 1.92, True)
    assert cathode.areal_loading_mg_per_cm2 == pytest.approx(24.0)
    assert 0 < cathode.porosity < 0.3
    tab.shot("result")

    # 5. four 8 cm² sheets, by the keyboard alone
    sheets_before = Sheet.objects.count()
    page.focus("#id_count")
    page.keyboard.press("Control+A")
    page.keyboard.type("4")
    page.keyboard.press("Tab")
    page.keyboard.type("8")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    message = page.inner_text(".msg-success")
    assert message.startswith("4 sheets cut: SHT-")
    sheet_rows = page.locator("#sheets tbody tr")
    assert sheet_rows.count() == 4
    shown = {row.locator("td").nth(0).inner_text().strip(): row.locator("td").nth(1).inner_text().strip()
             for row in sheet_rows.all()}
    assert "48 of 80 cm² left to cut." in page.inner_text("#sheets")
    tab.shot("sheets-cut")

    sheets = Sheet.objects.filter(film=cathode).select_related("item")
    assert Sheet.objects.count() == sheets_before + 4
    assert {sheet.item.code: sheet.position for sheet in sheets} == shown
    assert sorted(shown.values()) == ["r1c1", "r1c2", "r1c3", "r1c4"]
    assert all(sheet.area_cm2 == 8.0 and sheet.item.status == ItemStatus.DRAFT for sheet in sheets)
    cuts = LineageEdge.objects.filter(parent=cathode.item, role=LineageRole.CUT_FROM).select_related("child")
    assert {edge.child.code: (edge.amount, edge.unit) for edge in cuts} == {
        code: (Decimal("8"), "cm2") for code in shown}
    assert TracedItem.objects.get(code=cathode_code).quantity_used == Decimal("32")
    first, last = sorted(shown)[0], sorted(shown)[-1]
    assert f"{first} to {last}" in message
