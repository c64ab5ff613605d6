from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("accounts/<str:account_id>/", views.overview, name="overview"),
]
