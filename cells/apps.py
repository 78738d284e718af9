from django.apps import AppConfig


class CellsConfig(AppConfig):
    name = "cells"
    verbose_name = "Cells"

    def ready(self) -> None:
        # Imported here, not at the top: models, and the modules using them, load once the app registry is ready.
        from assbtrack.jobs.handlers import register_model

        from . import catalogue

        for spec in catalogue.MODEL_SPECS:  # its models in the catalogue, before its tasks use them
            register_model(spec)

        from assbtrack.tracing.choices import ItemKind
        from assbtrack.tracing.registry import register_kind, register_release_check

        from . import tasks  # the job kinds, in the web process and the worker alike
        from .models import Cell
        from .selectors import layers_prefetch

        tasks.register()
        register_kind(
            ItemKind.CELL,
            model=Cell,
            detail_template="cells/_cell_detail.html",
            select_related=("item__project",),
            prefetch_related=(layers_prefetch(),),
        )
        from .services import cell_release_problems

        register_release_check(ItemKind.CELL, cell_release_problems)

        from . import passport

        passport.register()  # what the kind adds to passports and their bundles

        from assbtrack.instruments.selectors import register_equipment_use

        register_equipment_use("cells.CellDensification", used_at_field="performed_at", code_field="cell__item__code",
                               label="Densification")
        register_equipment_use("cells.CyclingTest", equipment_field="cycler_channel__equipment",
                               used_at_field="created_at", code_field="cell__item__code", label="Cycling test")

        from assbtrack.quality.registry import register_qc_source, register_yield_step

        from .qc_series import cell_release_rows, cell_series_for_item

        register_qc_source("cells.first_cycle", label="First-cycle capacity and CE of cells of one design",
                           series_for_item=cell_series_for_item)
        register_yield_step("cell_release", label="Cells released against rejected", unit="cells",
                            rows=cell_release_rows)
