"""Housing designs: the Roark plate check on the design page against hand-worked numbers, and the design form.

Hand-worked plate (Roark Table 11.4 case 1a, square plate: α = 0.0444, β = 0.2874), 200 × 200 mm,
10 mm thick, E = 200 GPa, tolerance span/500 = 0.4 mm, allowable stress 200 MPa:

- at 1 MPa: y = 0.0444 · 1 · 200⁴ / (200 000 · 10³) = 0.0444 · 8 = 0.3552 mm (within 0.4 mm);
  σ = 0.2874 · 1 · 200² / 10² = 114.96 MPa (within 200 MPa): no warning.
- at 2 MPa: y = 0.7104 mm > 0.4 mm and σ = 229.92 MPa > 200 MPa: both warnings. The plate needs
  t = (0.0444 · 2 · 200³ · 500 / 200 000)^(1/3) = 1776^(1/3) = 12.11 mm for stiffness and
  √(0.2874 · 2 · 200² / 200) = √114.96 = 10.72 mm for strength, so 12.11 mm.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from modules.models import HousingDesign
from tests.utils.checks import assert_fixed_queries, client_for
from tests.utils.factories_modules import make_cell_films, make_design, make_module, make_scan

SQUARE_PLATE = {"plate_length_mm": 200.0, "plate_width_mm": 200.0, "plate_thickness_mm": 10.0,
                "plate_modulus_gpa": 200.0, "deflection_ratio": 500.0, "plate_allowable_stress_mpa": 200.0}


@pytest.mark.django_db
def test_plate_within_tolerance_shows_no_warning(project, sci):
    design = make_design(project, sci, target_stack_pressure_mpa=1.0, **SQUARE_PLATE)
    check = design.plate_check
    assert check.deflection_mm == pytest.approx(0.3552, rel=1e-6)
    assert check.stress_mpa == pytest.approx(114.96, rel=1e-6)
    assert check.ok and check.warnings == []
    page = client_for(sci).get(design.get_absolute_url())
    assert page.status_code == 200
    assert b"plate-warnings" not in page.content
    assert "stiff and strong enough" in page.content.decode()


@pytest.mark.django_db
def test_design_page_warns_of_deflection_and_stress(project, sci):
    design = make_design(project, sci, target_stack_pressure_mpa=2.0, **SQUARE_PLATE)
    check = design.plate_check
    assert check.deflection_mm == pytest.approx(0.7104, rel=1e-6)
    assert check.allowed_deflection_mm == pytest.approx(0.4)
    assert check.stress_mpa == pytest.approx(229.92, rel=1e-6)
    assert check.stiffness_thickness_mm == pytest.approx(1776 ** (1 / 3), rel=1e-6)
    assert check.strength_thickness_mm == pytest.approx(114.96 ** 0.5, rel=1e-6)
    assert check.required_thickness_mm == pytest.approx(12.11, abs=0.005)
    assert check.too_flexible and check.over_stressed

    text = client_for(sci).get(design.get_absolute_url()).content.decode()
    assert "plate-warnings" in text
    assert "deflects 0.71 mm at 2 MPa, beyond the tolerance of 0.4 mm" in text
    assert "over-stressed at 2 MPa: 229.9 MPa against the allowable 200 MPa" in text
    assert "12.11 mm" in text  # thickness needed, beside the 10 mm chosen


@pytest.mark.django_db
def test_stress_alone_can_warn(project, sci):
    # A stiff but weak plate: E high enough that 10 mm is within tolerance at 2 MPa, stress still 229.92 MPa.
    design = make_design(project, sci, target_stack_pressure_mpa=2.0, **{**SQUARE_PLATE, "plate_modulus_gpa": 400.0})
    check = design.plate_check
    assert check.deflection_mm == pytest.approx(0.3552, rel=1e-6)
    assert not check.too_flexible and check.over_stressed
    assert len(check.warnings) == 1 and "over-stressed" in check.warnings[0]


def design_post(project, **changes) -> dict:
    data = {
        "project": project.pk, "name": "Rig A", "plate_material": "steel", "plate_modulus_gpa": "200",
        "plate_density_kg_per_m3": "7850", "plate_length_mm": "320", "plate_width_mm": "120",
        "plate_thickness_mm": "12", "deflection_ratio": "500", "plate_allowable_stress_mpa": "200",
        "target_stack_pressure_mpa": "5", "expected_swelling_percent": "3", "bolt_count": "8", "bolt_size": "M8",
        "bolt_torque_nm": "10", "spring_count": "8", "spring_constant_n_per_mm": "450",
        "gasket_material": "silicone", "gasket_shore_a_hardness": "60", "gasket_thickness_mm": "1.5", "notes": "",
    }
    data.update(changes)
    return data


@pytest.mark.django_db
def test_design_form_creates_a_design(project, tech):
    response = client_for(tech).post(reverse("modules:design-create"), design_post(project))
    design = HousingDesign.objects.get(name="Rig A")
    assert response.status_code == 302 and response["Location"] == design.get_absolute_url()
    assert design.compliance == "springs and gaskets"
    assert design.created_by == tech and design.history.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"plate_thickness_mm": "nan"}, "plate_thickness_mm", "number"),
        ({"plate_thickness_mm": "0"}, "plate_thickness_mm", "greater than 0"),
        ({"target_stack_pressure_mpa": "1e300"}, "target_stack_pressure_mpa", "less than or equal to 1000"),
        ({"spring_constant_n_per_mm": ""}, "spring_constant_n_per_mm", "spring constant"),
        ({"gasket_thickness_mm": ""}, "gasket_thickness_mm", "gasket thickness"),
        ({"bolt_count": "99999999"}, "bolt_count", "less than or equal to"),
        ({"expected_swelling_percent": "-1"}, "expected_swelling_percent", "greater than or equal to 0"),
    ],
)
def test_design_form_refuses_bad_input_beside_the_field(project, tech, changes, field, words):
    response = client_for(tech).post(reverse("modules:design-create"), design_post(project, **changes))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert words in " ".join(errors[field])
    assert not HousingDesign.objects.exists()
    # The form keeps what was typed.
    assert 'value="Rig A"' in response.content.decode()


@pytest.mark.django_db
def test_design_name_unique_per_project(project, tech):
    make_design(project, tech, name="Rig A")
    response = client_for(tech).post(reverse("modules:design-create"), design_post(project))
    assert response.status_code == 200
    assert HousingDesign.objects.filter(name="Rig A").count() == 1
    assert response.context["form"].errors


@pytest.mark.django_db
def test_partners_and_anonymous_cannot_create_designs(project, partner, client):
    assert client_for(partner).get(reverse("modules:design-create")).status_code == 403
    assert client.get(reverse("modules:design-create")).status_code == 302  # to the login page


@pytest.mark.django_db
def test_design_list_query_count_is_fixed(project, tech):
    assert_fixed_queries(client_for(tech), reverse("modules:designs"),
                         add_rows=lambda n: [make_design(project, tech) for _ in range(n)])


@pytest.mark.django_db
def test_design_page_query_count_is_fixed(project, tech):
    design = make_design(project, tech)
    films = make_cell_films(project, tech)

    def add_rows(n):
        for _ in range(n):
            make_scan(tech, design=design)
        for _ in range(n // 3):
            make_module(project, tech, design=design, cell_count=1, films=films)

    assert_fixed_queries(client_for(tech), design.get_absolute_url(), add_rows=add_rows)
