from django.urls import path

from . import views

app_name = "instruments"
urlpatterns = [
    path("", views.equipment_list, name="list"),
    path("new/", views.equipment_new, name="new"),
    path("qc/", views.qc, name="qc"),
    path("<id:pk>/", views.equipment_detail, name="detail"),
    path("<id:pk>/calibrations/new/", views.calibration_new, name="calibration-new"),
    path("<id:pk>/channels/new/", views.channel_new, name="channel-new"),
    path("<id:pk>/logs/new/", views.log_new, name="log-new"),
    path("calibrations/<id:pk>/certificate/", views.certificate, name="certificate"),
    path("items/<str:code>/storage/", views.storage, name="storage"),
]
