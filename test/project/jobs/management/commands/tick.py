from django.conf import settings
from django.core.management.base import BaseCommand

from jobs.models import Row


class Command(BaseCommand):
    help = "The scheduled job: writes a row."

    def handle(self, *args, **options):
        Row.objects.create(source="tick", text="tick", version=settings.VERSION)
