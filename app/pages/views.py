import mimetypes

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.core.files.storage import default_storage
from django.db import connection
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.views.decorators.http import require_POST

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


@require_POST
@staff_member_required
def upload(request):
    """Stores the posted file (field "file") under uploads/ in the media storage; answers its URL."""
    upload = request.FILES.get("file")
    if upload is None:
        return HttpResponseBadRequest("post a file in the field named file\n", content_type="text/plain")
    name = default_storage.save(f"uploads/{upload.name}", upload)
    return HttpResponse(default_storage.url(name) + "\n", status=201, content_type="text/plain")


# Uploads are untrusted: opened directly, an HTML or SVG file runs sandboxed, without scripts (as
# nginx serves them from disk).
MEDIA_CSP = "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'"


def media(request, name):
    """An upload read back from the bucket (settings.MEDIA_S3), whichever app server stored it."""
    if name.startswith("/") or ".." in name.split("/"):
        raise Http404("no such file")
    if not default_storage.exists(name):
        raise Http404("no such file")
    f = default_storage.open(name, "rb")
    response = FileResponse(f, content_type=mimetypes.guess_type(name)[0] or "application/octet-stream")
    response["Content-Security-Policy"] = MEDIA_CSP
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "public, max-age=86400"
    return response
