from django.urls import path

from topups.views import flow, history

app_name = "topups"

account = "accounts/<str:account_id>/"
topup = account + "topups/<id:pk>/"

urlpatterns = [
    path("", flow.home, name="home"),
    path("topups/", history.topup_history_all, name="history_all"),
    path("topups/live/", history.topup_history_live_all, name="history_live_all"),
    path(account + "topup/", flow.topup_amount, name="amount"),
    path(account + "topup/review/", flow.topup_review, name="review"),
    path(account + "topup/confirm/", flow.topup_confirm, name="confirm"),
    path(account + "topups/", history.topup_history, name="history"),
    path(account + "topups/live/", history.topup_history_live, name="history_live"),
    path(topup, flow.topup_detail, name="detail"),
    path(topup + "pay/", flow.topup_pay, name="pay"),
    path(topup + "paid/", flow.topup_paid, name="paid"),
    path(topup + "return/", flow.topup_return, name="return"),
    path(topup + "status/", flow.topup_status, name="status"),
]
