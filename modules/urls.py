from django.urls import path

from . import views

app_name = "modules"
urlpatterns = [
    path("", views.module_list, name="list"),
    path("assemble/", views.module_assemble_view, name="assemble"),
    path("designs/", views.design_index, name="designs"),
    path("designs/new/", views.design_create, name="design-create"),
    path("designs/<id:design_id>/", views.design_detail, name="design"),
    path("designs/<id:design_id>/sweep/", views.design_sweep_run, name="design-sweep"),
    path("pressure-maps/", views.pressure_maps, name="pressure-maps"),
    path("pressure-maps/plot/", views.pressure_maps_plot, name="pressure-maps-plot"),
    path("scans/new/", views.scan_upload, name="scan-upload"),
    path("scans/<id:scan_id>/", views.scan_detail, name="scan"),
    path("scans/<id:scan_id>/image", views.scan_image, name="scan-image"),
    path("scans/<id:scan_id>/heatmap.png", views.scan_heatmap, name="scan-heatmap"),
    path("<str:code>/pressure/new/", views.pressure_reading_create_view, name="pressure-reading"),
    path("<str:code>/efficiency/", views.module_efficiency_run, name="efficiency"),
]
