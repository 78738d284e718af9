"""Steps and constants the browser journeys share: the demo's users, reading codes off pages, cutting sheets
on a film's page, checking that an image on a page is a real PNG."""

from __future__ import annotations

TECHNICIAN = ("technician", "demo-technician-pw")
SCIENTIST = ("scientist", "demo-scientist-pw")
PROJECT = "pilot-line – Sulfide ASSB pilot line"
WORKER_TIMEOUT_MS = 180_000


def heading_code(page) -> str:
    """The item code a record's page shows first in its heading."""
    return page.inner_text("h1").split()[0]


def sheet_codes(page) -> set[str]:
    return set(page.locator("#sheets table a[href^='/items/SHT-']").all_inner_texts())


def cut_sheets(tab, film_code: str, *, count: int, area_cm2: float) -> list[str]:
    """Cut sheets on the film's page; the new codes are the rows that were not in its sheet table before."""
    page = tab.go(f"/electrodes/films/{film_code}/")
    before = sheet_codes(page)
    page.fill("#cut-form #id_count", str(count))
    page.fill("#cut-form #id_area_cm2", str(area_cm2))
    with page.expect_navigation():
        page.click("#cut-form button[type=submit]")
    assert f"{count} sheets cut" in page.inner_text(".msg-success")
    tab.shot(f"cut-{film_code}")
    return sorted(sheet_codes(page) - before)


def expect_png(tab, image) -> None:
    """The <img> shows a picture, and its address answers 200 with a PNG."""
    image.scroll_into_view_if_needed()
    image.page.wait_for_function("image => image.complete && image.naturalWidth > 0", arg=image.element_handle())
    response = tab.context.request.get(image.get_attribute("src"))
    assert response.status == 200
    assert response.headers["content-type"] == "image/png"
    assert response.body()[:8] == b"\x89PNG\r\n\x1a\n"
