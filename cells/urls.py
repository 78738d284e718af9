from django.urls import path

from . import views

app_name = "cells"
urlpatterns = [
    path("", views.cell_list, name="list"),
    path("new/", views.cell_new, name="new"),
    path("figure1/", views.figure1, name="figure1"),
    path("trends/redraw/", views.retention_trends_redraw, name="trends-redraw"),
    path("cycling/<id:test_id>/", views.cycling_test, name="cycling-test"),
    path("cycling/<id:test_id>/plots/", views.cycling_plots, name="cycling-plots"),
    path("cycling/<id:test_id>/retry/", views.cycling_retry, name="cycling-retry"),
    path("cycling/<id:test_id>/discard/", views.cycling_discard, name="cycling-discard"),
    path("cycling/<id:test_id>/cycles.csv", views.cycling_csv, name="cycling-csv"),
    path("<str:code>/", views.cell_detail, name="cell"),
    path("<str:code>/energy/", views.cell_energy, name="energy"),
    path("<str:code>/densification/", views.cell_densify, name="densify"),
    path("<str:code>/events/new/", views.cell_event, name="event"),
    path("<str:code>/measurements/", views.cell_measurements, name="measurements"),
    path("<str:code>/cycling/new/", views.cycling_new, name="cycling-new"),
]
