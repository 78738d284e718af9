from django.urls import path

from . import views

app_name = "quality"
urlpatterns = [
    path("spc/", views.spc_index, name="spc"),
    path("spc/<int:series_id>/baseline/", views.spc_baseline, name="spc-baseline"),
    path("yield/", views.yield_index, name="yield"),
]
