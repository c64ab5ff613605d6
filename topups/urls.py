from django.urls import path

from topups import views

app_name = "topups"

account = "accounts/<str:account_id>/"
topup = account + "topups/<int:pk>/"

urlpatterns = [
    path("", views.home, name="home"),
    path(account + "topup/", views.topup_amount, name="amount"),
    path(account + "topup/review/", views.topup_review, name="review"),
    path(account + "topup/confirm/", views.topup_confirm, name="confirm"),
    path(account + "topups/", views.topup_history, name="history"),
    path(topup, views.topup_detail, name="detail"),
    path(topup + "pay/", views.topup_pay, name="pay"),
    path(topup + "paid/", views.topup_paid, name="paid"),
    path(topup + "return/", views.topup_return, name="return"),
    path(topup + "status/", views.topup_status, name="status"),
]
