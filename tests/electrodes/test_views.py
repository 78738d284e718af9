"""Technician pages: a new film with component rows, passes, the result, cutting sheets, lists and plots.

Every refusal shows beside its field (or row) and keeps what was typed; partners and anonymous users are
kept out; every page costs a fixed number of queries.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from assbtrack.jobs.models import Job
from assbtrack.tracing.choices import ItemKind
from assbtrack.tracing.services import item_quarantine
from electrodes.models import CalenderingPass, Film, Sheet
from electrodes.selectors import POROSITY_PLOT_JOB, THICKNESS_PLOT_JOB
from tests.utils.checks import assert_fixed_queries, client_for
from tests.utils.factories_electrodes import make_film, make_sheets
from tests.utils.factories_materials import make_lot

pytestmark = pytest.mark.django_db

NEW = reverse("electrodes:film-new")


def film_post(project, rows, **fields) -> dict:
    """The POST of the new-film form: ``rows`` are (code, mass g, recipe % or "")."""
    data = {
        "project": project.pk, "kind": ItemKind.CATHODE_FILM, "process": "dry", "area_cm2": "80",
        "mixer_type": "planetary_centrifugal", "mixing_speed_rpm": "2000", "mixing_time_s": "60",
        "batch_size_g": "2", "notes": "",
        "components-TOTAL_FORMS": str(len(rows)), "components-INITIAL_FORMS": "0",
        "components-MIN_NUM_FORMS": "1", "components-MAX_NUM_FORMS": "20",
    }
    for index, (code, mass, percent) in enumerate(rows):
        data[f"components-{index}-source_code"] = code
        data[f"components-{index}-mass_g"] = mass
        data[f"components-{index}-weight_percent"] = percent
    data.update(fields)
    return data


def recipe_rows(sources, percents=("80", "18.5", "1", "0.5")):
    masses = ["1.6", "0.37", "0.02", "0.01"]
    return [(item.code.lower(), mass, pct) for (item, _), mass, pct in zip(sources, masses, percents, strict=True)]


def row_error(response, index: int, field: str) -> str:
    """The text of the error paragraph beside a component row's field."""
    html = response.content.decode()
    marker = f'id="id_components-{index}-{field}-error">'
    assert marker in html, f"no error beside row {index} {field}"
    start = html.index(marker) + len(marker)
    return html[start:html.index("</p>", start)]


def test_new_film_page_has_rows_a_template_and_the_codes(project, tech, cathode_sources):
    response = client_for(tech).get(NEW)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="component-empty"' in html and "components-__prefix__-source_code" in html
    assert 'id="add-component"' in html
    assert cathode_sources[0][0].code in html  # offered in the datalist
    assert "Mass (g)" in html and "Film area (cm²)" in html and "Mixing speed (rpm)" in html


def test_a_film_is_made_from_the_form(project, tech, cathode_sources):
    response = client_for(tech).post(NEW, film_post(project, recipe_rows(cathode_sources)))
    film = Film.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("electrodes:film", args=[film.code])
    assert [c.source_id for c in film.components.order_by("position")] == [item.pk for item, _ in cathode_sources]
    assert film.mixing_speed_rpm == 2000 and film.mixer_type == "planetary_centrifugal"
    assert film.item.created_by == tech


def test_fractions_that_do_not_add_up_are_shown_and_the_rows_kept(project, tech, cathode_sources):
    rows = recipe_rows(cathode_sources, percents=("80", "18.5", "1", "0.3"))
    response = client_for(tech).post(NEW, film_post(project, rows))
    assert response.status_code == 200
    html = response.content.decode()
    assert "recipe weight fractions sum to 99.80%" in html
    assert 'value="0.3"' in html and f'value="{cathode_sources[0][0].code}"' in html
    assert not Film.objects.exists()


def test_mass_beyond_stock_is_shown_beside_its_row(project, tech, cathode_sources):
    rows = recipe_rows(cathode_sources, percents=("", "", "", ""))
    rows[2] = (rows[2][0], "600", "")  # 600 g of a 500 g carbon lot
    response = client_for(tech).post(NEW, film_post(project, rows))
    assert "has only 500 g left; 600 g asked" in row_error(response, 2, "mass_g")
    assert not Film.objects.exists()


def test_a_quarantined_lot_is_shown_beside_its_row(project, tech, sci, cathode_sources):
    item_quarantine(item=cathode_sources[3][0], user=sci, reason="PTFE lot wet")
    response = client_for(tech).post(NEW, film_post(project, recipe_rows(cathode_sources)))
    assert "quarantined: PTFE lot wet" in row_error(response, 3, "source_code")


def test_unknown_and_foreign_codes(project, other_project, tech, cathode_sources):
    foreign = make_lot(other_project, tech, chemical_name="PTFE", formula="(C2F4)n", role="binder",
                       density_g_per_cm3=2.2)
    rows = recipe_rows(cathode_sources, percents=("", "", "", ""))
    rows[1] = ("LOT-999999", "0.37", "")
    response = client_for(tech).post(NEW, film_post(project, rows))
    assert "No lot LOT-999999 that you may use" in row_error(response, 1, "source_code")
    rows = recipe_rows(cathode_sources, percents=("", "", "", ""))
    rows[3] = (foreign.item.code, "0.01", "")
    response = client_for(tech).post(NEW, film_post(project, rows))
    assert "another project" in row_error(response, 3, "source_code")


@pytest.mark.parametrize("mass", ["nan", "inf", "1e400", "-1", "abc", ""])
def test_bad_numbers_never_crash(project, tech, cathode_sources, mass):
    rows = recipe_rows(cathode_sources, percents=("", "", "", ""))
    rows[0] = (rows[0][0], mass, "")
    response = client_for(tech).post(NEW, film_post(project, rows, area_cm2="nan"))
    assert response.status_code == 200
    assert row_error(response, 0, "mass_g")
    assert not Film.objects.exists()


def test_missing_rows_and_a_missing_management_form(project, tech):
    client = client_for(tech)
    response = client.post(NEW, film_post(project, []))
    assert response.status_code == 200 and "Please submit at least 1 form" in response.content.decode()
    response = client.post(NEW, {"project": project.pk, "kind": "cathode_film"})
    assert response.status_code == 200
    assert "(Hidden field TOTAL_FORMS) This field is required." in response.content.decode()
    assert not Film.objects.exists()


def test_passes_one_by_one_and_a_thickening_pass_refused(project, tech, cathode_sources):
    film = make_film(project, tech, components=cathode_sources, passes=[300.0], result=False)
    client = client_for(tech)
    url = reverse("electrodes:film-pass", args=[film.code])
    good = {"kind": "calender", "roll_temperature_c": "100", "gap_um": "150", "line_force_n_per_mm": "200",
            "speed_m_per_min": "1", "thickness_um": "180"}
    response = client.post(url, good)
    assert response.status_code == 302
    assert list(film.passes.values_list("thickness_um", flat=True)) == [300.0, 180.0]
    assert Job.objects.filter(kind=THICKNESS_PLOT_JOB, subject=film.item).count() == 1

    response = client.post(url, {**good, "thickness_um": "190"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "190 µm is thicker than after pass 2 (180 µm)" in html
    assert 'id="id_thickness_um-error"' in html and 'value="190"' in html
    assert CalenderingPass.objects.filter(film=film).count() == 2


def test_result_entry_stores_metrics_and_queues_the_overview_plot(project, tech, cathode_sources):
    film = make_film(project, tech, components=cathode_sources, result=False)
    client = client_for(tech)
    page = client.get(reverse("electrodes:film", args=[film.code])).content.decode()
    assert 'id="film-derive"' in page and "Final thickness (µm)" in page  # the live preview's data
    url = reverse("electrodes:film-result", args=[film.code])
    response = client.post(url, {"thickness_um": "nan", "mass_g": "1.92", "free_standing": "yes"})
    assert response.status_code == 200 and 'id="id_thickness_um-error"' in response.content.decode()
    response = client.post(url, {"thickness_um": "82", "mass_g": "1.92", "free_standing": "yes"})
    assert response.status_code == 302
    film.refresh_from_db()
    assert film.areal_capacity_mah_per_cm2 == pytest.approx(3.84)
    assert film.free_standing is True
    assert Job.objects.filter(kind=POROSITY_PLOT_JOB).count() == 1
    page = client.get(reverse("electrodes:film", args=[film.code])).content.decode()
    assert "3.84 mAh/cm²" in page


def test_result_of_a_film_heavier_than_its_components(project, tech, cathode_sources):
    film = make_film(project, tech, components=cathode_sources, result=False)
    response = client_for(tech).post(
        reverse("electrodes:film-result", args=[film.code]),
        {"thickness_um": "82", "mass_g": "3", "free_standing": "no"},
    )
    assert "more than the 2 g of components" in response.content.decode()


def test_cutting_sheets(project, tech, cathode_sources):
    film = make_film(project, tech, components=cathode_sources)
    client = client_for(tech)
    url = reverse("electrodes:film-sheets", args=[film.code])
    response = client.post(url, {"count": "4", "area_cm2": "10", "positions": ""})
    assert response.status_code == 302
    assert sorted(Sheet.objects.filter(film=film).values_list("position", flat=True)) == ["r1c1", "r1c2", "r1c3",
                                                                                          "r1c4"]
    response = client.post(url, {"count": "5", "area_cm2": "10", "positions": ""})
    assert response.status_code == 200
    assert "has 40 cm² left" in response.content.decode()
    response = client.post(url, {"count": "2", "area_cm2": "5", "positions": "a1, a1"})
    assert "positions must be new and distinct" in response.content.decode()
    assert Sheet.objects.filter(film=film).count() == 4


def test_partners_and_anonymous_users_are_kept_out(client, project, tech, partner, cathode_sources):
    film = make_film(project, tech, components=cathode_sources)
    urls = [reverse("electrodes:film-list"), NEW, reverse("electrodes:film", args=[film.code]),
            reverse("electrodes:sheet-list")]
    for url in urls:
        assert client_for(partner).get(url).status_code == 403
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    post_urls = [reverse("electrodes:film-sheets", args=[film.code]), reverse("electrodes:film-pass", args=[film.code])]
    for url in post_urls:
        assert client_for(partner).post(url, {"count": "1", "area_cm2": "1"}).status_code == 403
    assert not Sheet.objects.exists()


def test_film_list_filters_and_overview_plot_panel(project, tech, add_films):
    films = add_films(2)
    slurry = add_films(1, process="slurry")[-1]
    client = client_for(tech)
    html = client.get(reverse("electrodes:film-list") + "?process=slurry").content.decode()
    assert slurry.code in html and films[0].code not in html
    html = client.get(reverse("electrodes:film-list")).content.decode()
    assert "Draw with the latest films" in html
    response = client.post(reverse("electrodes:porosity-plot"), {"kind": ItemKind.CATHODE_FILM})
    assert response.status_code == 302
    job = Job.objects.get(kind=POROSITY_PLOT_JOB)
    assert set(job.inputs["series"]) == {"Dry (PTFE fibrillation)", "Slurry (solvent, binder)"}
    html = client.get(reverse("electrodes:film-list")).content.decode()
    assert f'data-job-status="{reverse("jobs:status", args=[job.pk])}"' in html


def test_film_page_queries_are_fixed(project, tech, cathode_sources):
    film = make_film(project, tech, components=cathode_sources, area_cm2=400.0)
    assert_fixed_queries(client_for(tech), reverse("electrodes:film", args=[film.code]),
                         add_rows=lambda n: make_sheets(film, tech, count=n, area_cm2=1.0))


def test_item_page_of_a_film_queries_are_fixed(project, tech, cathode_sources):
    film = make_film(project, tech, components=cathode_sources, area_cm2=400.0)
    assert_fixed_queries(client_for(tech), reverse("tracing:item", args=[film.code]),
                         add_rows=lambda n: make_sheets(film, tech, count=n, area_cm2=1.0))


def test_item_page_of_a_sheet_shows_its_film(project, tech, cathode_sources):
    film = make_film(project, tech, components=cathode_sources)
    sheet = make_sheets(film, tech, count=1)[0]
    html = client_for(tech).get(reverse("tracing:item", args=[sheet.code])).content.decode()
    assert f">{film.code}</a>" in html and "3.84 mAh/cm²" in html and "38.4 mAh on this sheet" in html


def test_new_film_page_queries_are_fixed(project, tech):
    assert_fixed_queries(
        client_for(tech), NEW,
        add_rows=lambda n: [make_lot(project, tech, role="binder", chemical_name="PTFE", formula="(C2F4)n")
                            for _ in range(n)],
    )


def test_dashboard_panel_lists_films_awaiting_their_result(project, tech, add_films):
    open_film = add_films(1, result=False)[-1]
    done = add_films(1)[-1]
    html = client_for(tech).get(reverse("tracing:home")).content.decode()
    panel = html[html.index("Films awaiting their result"):]
    panel = panel[:panel.index("</section>")]
    assert open_film.code in panel and done.code not in panel
    assert_fixed_queries(client_for(tech), reverse("tracing:home"), add_rows=lambda n: add_films(n, result=False))
