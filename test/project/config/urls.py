from django.urls import path

from jobs import views

urlpatterns = [
    path("health/", views.health),
    path("enqueue/", views.enqueue),
    path("rows/", views.rows),
]
