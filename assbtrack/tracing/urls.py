from django.urls import path

from . import views

app_name = "tracing"
urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("items/<str:code>/", views.item_detail, name="item"),
    path("labels/", views.labels, name="labels"),
    path("items/<str:code>/impact/", views.item_impact, name="impact"),
    path("items/<str:code>/recall/", views.item_recall, name="recall"),
    path("items/<str:code>/lineage.csv", views.item_lineage_csv, name="lineage-csv"),
    path("items/<str:code>/composition/", views.item_composition, name="composition"),
    path("items/<str:code>/deviation/", views.item_deviation, name="deviation"),
    path("items/<str:code>/<str:action>/", views.item_status_action, name="status-action"),
]
