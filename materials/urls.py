from django.urls import path

from . import views

app_name = "materials"
urlpatterns = [
    path("", views.index, name="index"),
    path("lots/", views.lot_list, name="lots"),
    path("lots/new/", views.lot_new, name="lot-new"),
    path("batches/", views.batch_list, name="batches"),
    path("batches/new/", views.batch_new, name="batch-new"),
    path("batches/<str:code>/", views.batch_detail, name="batch"),
    path("batches/<str:code>/plots/", views.batch_plots, name="batch-plots"),
    path("batches/<str:code>/correct/", views.batch_correct_view, name="batch-correct"),
    path("batches/<str:code>/steps/new/", views.step_new, name="step-new"),
    path("batches/<str:code>/measurements/new/", views.measurement_new, name="measurement-new"),
    path("batches/<str:code>/exposures/new/", views.exposure_new, name="exposure-new"),
    path("batches/<str:code>/status/", views.batch_status, name="batch-status"),
    path("trends/redraw/", views.conductivity_trends_redraw, name="trends-redraw"),
    path("compositions/", views.composition_list, name="compositions"),
    path("compositions/<slug:project>/<path:composition>/", views.composition_detail, name="composition"),
]
