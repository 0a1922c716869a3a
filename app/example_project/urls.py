from django.conf import settings
from django.contrib import admin
from django.urls import path

from pages import views

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("upload/", views.upload, name="upload"),
    path("admin/", admin.site.urls),
]
if settings.MEDIA_S3:
    # Uploads in a bucket are read back by the app (nginx serves MEDIA_ROOT from disk otherwise).
    urlpatterns.append(path(settings.MEDIA_URL.lstrip("/") + "<path:name>", views.media, name="media"))
