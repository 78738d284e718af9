from django.apps import AppConfig


class MaterialsConfig(AppConfig):
    name = "materials"
    verbose_name = "Materials"

    def ready(self) -> None:
        # Imported here, not at the top: models, and the modules using them, load once the app registry is ready.
        from assbtrack.jobs.handlers import register_model

        from . import catalogue

        for spec in catalogue.MODEL_SPECS:  # its models in the catalogue, before its tasks use them
            register_model(spec)

        from assbtrack.tracing.choices import ItemKind
        from assbtrack.tracing.registry import register_correction_page, register_kind, register_release_check

        from . import tasks  # noqa: F401  (registers the plot job kinds in the web process and the worker)
        from .models import MaterialLot, SynthesisBatch
        from .selectors import sse_batch_release_check

        register_kind(ItemKind.MATERIAL_LOT, model=MaterialLot, detail_template="materials/_lot_detail.html")
        register_kind(ItemKind.SSE_BATCH, model=SynthesisBatch, detail_template="materials/_batch_detail.html")
        register_correction_page(ItemKind.SSE_BATCH, "materials:batch-correct")
        register_release_check(ItemKind.SSE_BATCH, sse_batch_release_check)

        from . import passport

        passport.register()  # what the kind adds to passports and their bundles

        from assbtrack.instruments.selectors import register_equipment_use

        from . import importers  # noqa: F401  (registers the lot, batch and measurement import kinds)

        register_equipment_use("materials.SynthesisBatch", used_at_field="item__created_at", code_field="item__code",
                               label="SSE synthesis batch (mill)")
        register_equipment_use("materials.ConductivityMeasurement", used_at_field="measured_at",
                               code_field="batch__item__code", label="Conductivity measurement")

        from assbtrack.quality.registry import (
            DesignStep,
            register_design_step,
            register_qc_source,
            register_yield_step,
        )

        from .qc_series import (
            MILLING_PARAMETERS,
            batch_yield_rows,
            conductivity_series_for_item,
            milling_design_records,
        )

        register_qc_source("materials.conductivity", label="Conductivity of batches of one composition and route",
                           series_for_item=conductivity_series_for_item)
        register_yield_step("batch", label="Batch yield after conditioning", unit="g", rows=batch_yield_rows)
        register_design_step(DesignStep(
            "milling", "Milling (SSE batches)", MILLING_PARAMETERS,
            (("conductivity_ms_per_cm", "Ionic conductivity near 25 °C (mS/cm)", "maximize"),),
            milling_design_records, record_form="materials:batch-new",
        ))
