from django.urls import path

from . import design_views, views

app_name = "quality"
urlpatterns = [
    path("spc/", views.spc_index, name="spc"),
    path("spc/<int:series_id>/baseline/", views.spc_baseline, name="spc-baseline"),
    path("yield/", views.yield_index, name="yield"),
    path("design/", design_views.design_index, name="design"),
    path("design/runs/<int:job_id>/", design_views.design_run, name="design-run"),
    path("design/runs/<int:job_id>/plan/", design_views.design_plan, name="design-plan"),
]
