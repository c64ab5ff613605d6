from django.urls import path

from finance import views

app_name = "finance"

topup = "accounts/<str:account_id>/topups/<int:pk>/"

urlpatterns = [
    path("finance/", views.desk, name="desk"),
    path("finance/export/", views.export, name="export"),
    path("finance/confirm/", views.confirm_many, name="confirm_many"),
    path(topup + "confirm/", views.confirm, name="confirm"),
    path(topup + "resolve/", views.resolve, name="resolve"),
]
