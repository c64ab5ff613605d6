from django.urls import path

from finance import views

app_name = "finance"

topup = "accounts/<str:account_id>/topups/<id:pk>/"

urlpatterns = [
    path("finance/", views.desk, name="desk"),
    path("finance/export/", views.export, name="export"),
    path("finance/confirm/", views.confirm_many, name="confirm_many"),
    path("finance/reconciliation/", views.reconciliation, name="reconciliation"),
    path("finance/reconciliation/run/", views.reconcile_now, name="reconcile_now"),
    path(
        "finance/accounts/<str:account_id>/invoices/record/",
        views.record_invoices,
        name="record_invoices",
    ),
    path(topup + "confirm/", views.confirm, name="confirm"),
    path(topup + "resolve/", views.resolve, name="resolve"),
]
