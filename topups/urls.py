from django.urls import path

from topups import views

app_name = "topups"

urlpatterns = [
    path("", views.home, name="home"),
]
