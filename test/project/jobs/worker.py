"""`python -m jobs.worker`: an RQ worker on the default queue, with Django set up for the tasks."""
import django

django.setup()

from rq import Worker  # noqa: E402

from jobs.queue import queue  # noqa: E402

if __name__ == "__main__":
    q = queue()
    Worker([q], connection=q.connection).work()
