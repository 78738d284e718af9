from django.urls import path

from . import views

app_name = "jobs"
urlpatterns = [
    path("", views.job_list, name="list"),
    path("<id:job_id>/", views.job_detail, name="detail"),
    path("<id:job_id>/status.json", views.job_status, name="status"),
    path("<id:job_id>/files/<str:name>", views.job_file, name="file"),
]
