from django.urls import path

from locks import views

app_name = "locks"

urlpatterns = [
    path("portfolio/", views.portfolio, name="portfolio"),
]
