from django.apps import AppConfig


class ElectrodesConfig(AppConfig):
    name = "electrodes"
    verbose_name = "Electrodes"

    def ready(self) -> None:
        # Imported here, not at the top: models, and the modules using them, load once the app registry is ready.
        from assbtrack.tracing.choices import ItemKind
        from assbtrack.tracing.registry import register_kind, register_release_check

        from . import tasks  # noqa: F401  (registers the plot job kinds in the web process and the worker)
        from .choices import FILM_KINDS
        from .models import Film, Sheet
        from .selectors import film_release_check, sheet_release_check

        for kind in FILM_KINDS:
            register_kind(
                kind,
                model=Film,
                detail_template="electrodes/_film_detail.html",
                select_related=("item__project",),
                prefetch_related=("components__source", "passes__equipment__calibrations"),
            )
            register_release_check(kind, film_release_check)
        register_kind(
            ItemKind.SHEET,
            model=Sheet,
            detail_template="electrodes/_sheet_detail.html",
            select_related=("film", "film__item"),
        )
        register_release_check(ItemKind.SHEET, sheet_release_check)

        from assbtrack.instruments.selectors import register_equipment_use

        register_equipment_use("electrodes.CalenderingPass", used_at_field="created_at", code_field="film__item__code",
                               label="Calendering pass")

        from assbtrack.quality.registry import (
            DesignStep,
            register_design_step,
            register_qc_source,
            register_yield_step,
        )

        from .qc_series import DRY_FILM_PARAMETERS, dry_film_design_records, film_series_for_item, film_to_sheet_rows

        register_qc_source("electrodes.films", label="Areal loading, thickness and porosity of films of one recipe",
                           series_for_item=film_series_for_item)
        register_yield_step("film_to_sheet", label="Film to sheet (usable area)", unit="cm²", rows=film_to_sheet_rows)
        register_design_step(DesignStep(
            "dry_film", "Dry films", DRY_FILM_PARAMETERS,
            (("porosity", "Porosity (fraction 0–1)", "minimize"),
             ("areal_loading_mg_per_cm2", "Areal loading (mg/cm²)", "maximize")),
            dry_film_design_records, record_form="electrodes:film-new",
        ))
