from django.core.management.base import BaseCommand

from jobs.queue import queue
from jobs.tasks import write_row


class Command(BaseCommand):
    help = "Queues COUNT write_row tasks named TEXT-1..COUNT, each taking SECONDS."

    def add_arguments(self, parser):
        parser.add_argument("text")
        parser.add_argument("--count", type=int, default=1)
        parser.add_argument("--seconds", type=float, default=0)

    def handle(self, *args, **options):
        q = queue()
        for i in range(1, options["count"] + 1):
            q.enqueue(write_row, f"{options['text']}-{i}", options["seconds"], job_timeout=600)
