from django.apps import AppConfig


class MaterialsConfig(AppConfig):
    name = "materials"
    verbose_name = "Materials"

    def ready(self) -> None:
        from assbtrack.tracing.choices import ItemKind
        from assbtrack.tracing.registry import register_correction_page, register_kind, register_release_check

        from . import tasks  # noqa: F401  (registers the plot job kinds in the web process and the worker)
        from .models import MaterialLot, SynthesisBatch
        from .selectors import sse_batch_release_check

        register_kind(ItemKind.MATERIAL_LOT, model=MaterialLot, detail_template="materials/_lot_detail.html")
        register_kind(ItemKind.SSE_BATCH, model=SynthesisBatch, detail_template="materials/_batch_detail.html")
        register_correction_page(ItemKind.SSE_BATCH, "materials:batch-correct")
        register_release_check(ItemKind.SSE_BATCH, sse_batch_release_check)

        from assbtrack.instruments.selectors import register_equipment_use

        from . import importers  # noqa: F401  (registers the lot, batch and measurement import kinds)

        register_equipment_use("materials.SynthesisBatch", used_at_field="item__created_at", code_field="item__code",
                               label="SSE synthesis batch (mill)")
        register_equipment_use("materials.ConductivityMeasurement", used_at_field="measured_at",
                               code_field="batch__item__code", label="Conductivity measurement")
