"""The partner API, version 1. Each app adds its read-only viewsets through its ``api.register``."""

from importlib import import_module

from rest_framework.routers import DefaultRouter

app_name = "api"

# The apps whose ``api`` module has a ``register(router)``, in the order of the chain.
API_MODULES = (
    "assbtrack.tracing.api",
    "assbtrack.jobs.api",
    "materials.api",
    "electrodes.api",
    "cells.api",
    "modules.api",
)

router = DefaultRouter()
for module_name in API_MODULES:
    import_module(module_name).register(router)

urlpatterns = router.urls
