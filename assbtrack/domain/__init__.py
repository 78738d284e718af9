"""Pure, Django-free pieces shared by every app's science: input checking and the model catalogue.

``PURE_MODULES`` lists every module of assbtrack that imports neither Django nor Celery: the science (fits,
models, file parsers, figures), the apps' entries in the model catalogue and the plain helpers the science uses.
Each is imported alone in a fresh interpreter by ``tests/test_architecture.py``, which also fails when a module
whose imports look pure is missing here: a new science module joins the list, and stays pure because of it.
"""

PURE_MODULES = (
    # shared by the apps' science
    "assbtrack.domain.inputs",
    "assbtrack.domain.plotting",
    "assbtrack.domain.registry",
    "assbtrack.domain.spreadsheet",
    "assbtrack.instruments.exposure",
    "assbtrack.instruments.sensorlog",
    "assbtrack.tracing.units",
    "assbtrack.tracing.display",
    "assbtrack.imports.tables",
    # process learning
    "assbtrack.domain.spc",
    "assbtrack.domain.design",
    "assbtrack.quality.catalogue",
    "assbtrack.quality.plots",
    "assbtrack.quality.registry",
    # materials
    "materials.conductivity",
    "materials.milling",
    "materials.plots",
    "materials.catalogue",
    # electrodes
    "electrodes.films",
    "electrodes.plots",
    # cells
    "cells.energy",
    "cells.tiers",
    "cells.geometry",
    "cells.cycling",
    "cells.cycler_files",
    "cells.plots",
    "cells.figures",
    "cells.catalogue",
    # modules
    "modules.housing",
    "modules.pressure",
    "modules.design_check",
    "modules.plots",
    "modules.catalogue",
)
