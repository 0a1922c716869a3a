from django.conf import settings
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import render

from .models import Note

# Read once at start: a release serves the version it was deployed with.
VERSION = settings.VERSION_FILE.read_text(encoding="utf-8").strip() if settings.VERSION_FILE.exists() else "unknown"


def home(request):
    return render(request, "pages/home.html", {"version": VERSION, "notes": Note.objects.all()[:5]})


def health(request):
    """200 when the database answers, 503 otherwise (used before traffic moves to a release)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any database error means "not healthy"
        return HttpResponse(f"database unreachable: {exc.__class__.__name__}\n", status=503, content_type="text/plain")
    return HttpResponse(f"ok {VERSION}\n", content_type="text/plain")
