from django.urls import path

from . import views

app_name = "imports"
urlpatterns = [
    path("", views.index, name="index"),
    path("templates/<slug:kind>.<str:file_format>", views.template_download, name="template"),
    path("<id:run_id>/", views.detail, name="detail"),
    path("<id:run_id>/check/", views.check_again, name="check"),
    path("<id:run_id>/confirm/", views.confirm, name="confirm"),
    path("<id:run_id>/report.csv", views.report_csv, name="report-csv"),
]
