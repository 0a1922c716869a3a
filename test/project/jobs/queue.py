from django.conf import settings
from redis import Redis
from rq import Queue


def queue():
    return Queue("default", connection=Redis.from_url(settings.REDIS_URL))
