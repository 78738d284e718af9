from django.urls import path

from . import views

app_name = "access"
urlpatterns = [
    path("tokens/", views.api_tokens, name="api-tokens"),
    path("tokens/<id:token_id>/revoke/", views.api_token_revoke_view, name="api-token-revoke"),
]
