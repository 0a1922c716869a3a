from django.db import connection
from django.http import HttpResponse

from .models import Row
from .queue import queue
from .tasks import write_row


def health(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok\n", content_type="text/plain")


def enqueue(request):
    job = queue().enqueue(write_row, request.GET.get("text", "hello"))
    return HttpResponse(f"{job.id}\n", content_type="text/plain")


def rows(request):
    lines = [f"{r.source} {r.text} {r.version}" for r in Row.objects.order_by("id")]
    return HttpResponse("".join(line + "\n" for line in lines), content_type="text/plain")
