from django.apps import AppConfig


class ModulesConfig(AppConfig):
    name = "modules"
    verbose_name = "Modules"

    def ready(self) -> None:
        # Imported here, not at the top: models, and the modules using them, load once the app registry is ready.
        from assbtrack.jobs.handlers import register_model

        from . import catalogue

        for spec in catalogue.MODEL_SPECS:  # its models in the catalogue, before its tasks use them
            register_model(spec)

        from django.db.models import Prefetch

        from assbtrack.jobs.models import Job
        from assbtrack.tracing.choices import ItemKind
        from assbtrack.tracing.registry import register_kind, register_release_check

        from . import tasks
        from .choices import JOB_MODULE_EFFICIENCY
        from .models import Module, PressureScan
        from .selectors import module_positions_prefetch, module_readings_prefetch
        from .services import module_release_problems

        register_kind(
            ItemKind.MODULE,
            model=Module,
            detail_template="modules/_module_detail.html",
            select_related=("housing_design",),
            prefetch_related=(
                module_positions_prefetch(),
                module_readings_prefetch(),
                Prefetch("scans", queryset=PressureScan.objects.select_related("result", "job", "module__item")),
                Prefetch(
                    "item__jobs",
                    queryset=Job.objects.filter(kind=JOB_MODULE_EFFICIENCY).prefetch_related("files")[:1],
                    to_attr="efficiency_jobs",
                ),
            ),
        )
        register_release_check(ItemKind.MODULE, module_release_problems)

        from . import passport

        passport.register()  # what the kind adds to passports and their bundles
        tasks.register()

        from assbtrack.quality.registry import DesignStep, register_design_step, register_qc_source

        from . import importers  # noqa: F401  (registers the pressure-reading import kind)
        from .qc_series import (
            GRAVIMETRIC_EFFICIENCY,
            HOUSING_PARAMETERS,
            PRESSURE_CV,
            housing_design_records,
            pressure_series_for_item,
        )
        from .services import housing_design_plan

        register_qc_source("modules.pressure_cv", label="Pressure-map CV of the modules of one housing design",
                           series_for_item=pressure_series_for_item)
        register_design_step(DesignStep(
            "housing", "Housing designs", HOUSING_PARAMETERS,
            ((PRESSURE_CV, "Pressure-map coefficient of variation (–)", "minimize"),
             (GRAVIMETRIC_EFFICIENCY, "Cell-to-module gravimetric efficiency (fraction 0–1)", "maximize")),
            housing_design_records, plan=housing_design_plan,
        ))
