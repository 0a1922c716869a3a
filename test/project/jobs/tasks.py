import time

from django.conf import settings

from .models import Row


def write_row(text, seconds=0):
    """The task: waits `seconds` (a task in flight during a deploy), then writes a row."""
    time.sleep(seconds)
    return Row.objects.create(source="task", text=text, version=settings.VERSION).pk
