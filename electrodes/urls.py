from django.urls import path

from . import views

app_name = "electrodes"
urlpatterns = [
    path("", views.film_list, name="film-list"),
    path("films/new/", views.film_new, name="film-new"),
    path("films/<str:code>/", views.film_detail, name="film"),
    path("films/<str:code>/passes/", views.film_pass_new, name="film-pass"),
    path("films/<str:code>/result/", views.film_result, name="film-result"),
    path("films/<str:code>/sheets/", views.film_sheets_cut, name="film-sheets"),
    path("films/<str:code>/plot/", views.film_plot_draw, name="film-plot"),
    path("sheets/", views.sheet_list, name="sheet-list"),
    path("plots/porosity/", views.porosity_plot_draw, name="porosity-plot"),
]
