"""Top-level routes: technician pages per app, item pages and jobs from the core, the admin, the API."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

admin.site.site_header = "assbtrack administration"  # also LabAdminSite's defaults
admin.site.site_title = "assbtrack"
admin.site.index_title = "Records, lineage and jobs"

urlpatterns = [
    path("", include("assbtrack.tracing.urls")),
    path("jobs/", include("assbtrack.jobs.urls")),
    path("instruments/", include("assbtrack.instruments.urls")),
    path("imports/", include("assbtrack.imports.urls")),
    path("materials/", include("materials.urls")),
    path("electrodes/", include("electrodes.urls")),
    path("cells/", include("cells.urls")),
    path("modules/", include("modules.urls")),
    path("quality/", include("assbtrack.quality.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("assbtrack.access.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("assbtrack.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # the split view serves its start-up script as a file of its own (?script), so the page needs no inline script
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema", template_name="api/redoc.html"),
         name="api-redoc"),
]
