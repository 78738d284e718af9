"""The scientist's admin of films and sheets: metric-range filters, inlines, lineage links, fixed queries."""

from __future__ import annotations

import pytest
from django.urls import reverse

from assbtrack.tracing.services import item_release
from tests.utils.checks import assert_fixed_queries, client_for
from tests.utils.factories_electrodes import make_film, make_sheets

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:electrodes_film_changelist")


def codes_listed(response) -> set[str]:
    import re

    return set(re.findall(r">((?:CAT|SEP|ANO)-\d{6})<", response.content.decode()))


def test_changelist_queries_are_fixed(sci, add_films):
    assert_fixed_queries(client_for(sci), CHANGELIST, add_rows=add_films)


def test_filtered_changelist_queries_are_fixed(sci, add_films):
    url = (CHANGELIST + "?kind=cathode_film&process=dry&porosity_range=15-20&areal_capacity_mah_per_cm2_range=3-4"
           "&thickness_um_range=80-120&binder_fraction_range=0.1-0.5")
    assert_fixed_queries(client_for(sci), url, add_rows=add_films)


def test_range_filters_pick_the_right_films(project, sci, tech, add_films):
    # 82 µm: porosity 15.5 %, 3.84 mAh/cm². 100 µm: ρ = 1.92/(80·0.01) = 2.4 g/cm³ → porosity 30.7 %.
    dense = add_films(1)[-1]
    loose = add_films(1, passes=[300.0, 100.0])[-1]
    separator = make_film(project, tech, "separator_film")
    client = client_for(sci)
    assert codes_listed(client.get(CHANGELIST + "?porosity_range=15-20")) == {dense.code}
    assert codes_listed(client.get(CHANGELIST + "?porosity_range=ge30")) == {loose.code}
    assert codes_listed(client.get(CHANGELIST + "?thickness_um_range=lt30")) == set()
    assert codes_listed(client.get(CHANGELIST + "?thickness_um_range=30-50")) == {separator.code}
    assert codes_listed(client.get(CHANGELIST + "?kind=separator_film")) == {separator.code}
    assert codes_listed(client.get(CHANGELIST + "?areal_capacity_mah_per_cm2_range=none")) == {separator.code}
    assert codes_listed(client.get(CHANGELIST + "?binder_fraction_range=0.1-0.5")) == set()
    assert codes_listed(client.get(CHANGELIST + "?binder_fraction_range=0.5-1")) == {dense.code, loose.code,
                                                                                      separator.code}
    assert codes_listed(client.get(CHANGELIST + "?porosity_range=nonsense")) == {dense.code, loose.code,
                                                                                  separator.code}


def test_change_page_has_components_passes_sheets_and_lineage_links(project, sci, tech, add_films):
    film = add_films(1)[-1]
    make_sheets(film, tech, count=2)
    url = reverse("admin:electrodes_film_change", args=[film.pk])
    html = client_for(sci).get(url).content.decode()
    for component in film.components.all():
        assert f'href="/items/{component.source.code}/"' in html
    assert "thickness after the pass (µm)" in html.lower()
    assert f'href="/items/{film.code}/impact/"' in html or "downstream" in html
    assert "SHT-" in html
    # the lineage graph is drawn on the change form: the sources upstream, the cut sheets downstream
    graph = html[html.index('id="lineage-graph"'):]
    upstream, downstream = graph[:graph.index("</fieldset>")].split("Downstream (where it went)")
    assert all(component.source.code in upstream for component in film.components.all())
    sheets = list(film.item.edges_out.values_list("child__code", flat=True))
    assert len(sheets) == 2 and all(code in downstream for code in sheets)


def test_change_page_queries_are_fixed(project, sci, tech, cathode_sources):
    film = make_film(project, tech, components=cathode_sources, area_cm2=400.0)
    url = reverse("admin:electrodes_film_change", args=[film.pk])
    assert_fixed_queries(client_for(sci), url, add_rows=lambda n: make_sheets(film, tech, count=n, area_cm2=1.0))


def test_sheet_changelist_queries_are_fixed(project, sci, tech, cathode_sources):
    film = make_film(project, tech, components=cathode_sources, area_cm2=400.0)
    assert_fixed_queries(client_for(sci), reverse("admin:electrodes_sheet_changelist"),
                         add_rows=lambda n: make_sheets(film, tech, count=n, area_cm2=1.0))


def test_a_released_film_needs_a_reason_to_be_edited(project, sci, tech, add_films):
    film = add_films(1)[-1]
    item_release(item=film.item, user=sci)
    url = reverse("admin:electrodes_film_change", args=[film.pk])
    data = {"process": "dry", "mixer_type": "high_shear", "mixing_speed_rpm": "2000", "mixing_time_s": "60",
            "batch_size_g": "2", "free_standing": "true", "film_conductivity_ms_per_cm": "",
            "change_reason": "",
            "components-TOTAL_FORMS": "0", "components-INITIAL_FORMS": "4", "passes-TOTAL_FORMS": "0",
            "passes-INITIAL_FORMS": "5", "sheets-TOTAL_FORMS": "0", "sheets-INITIAL_FORMS": "0"}
    client = client_for(sci)
    response = client.post(url, data)
    assert response.status_code == 200 and "say why it is changed" in response.content.decode()
    film.refresh_from_db()
    assert film.mixer_type == "planetary_centrifugal"
    response = client.post(url, {**data, "change_reason": "mixer logged wrong"})
    assert response.status_code == 302
    film.refresh_from_db()
    assert film.mixer_type == "high_shear"
    assert film.history.first().history_change_reason == "mixer logged wrong"


def test_technicians_and_partners_have_no_admin(tech, partner):
    assert client_for(tech).get(CHANGELIST).status_code == 302
    assert client_for(partner).get(CHANGELIST).status_code == 302
