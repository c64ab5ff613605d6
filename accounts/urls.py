from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("accounts/<str:account_id>/", views.overview, name="overview"),
    path("accounts/<str:account_id>/invoices/", views.invoices, name="invoices"),
    path("accounts/<str:account_id>/auto-top-up/", views.auto_topup, name="auto_topup"),
    path(
        "accounts/<str:account_id>/auto-top-up/remove/",
        views.auto_topup_remove,
        name="auto_topup_remove",
    ),
]
