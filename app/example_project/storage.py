"""The uploads' storage when they live in a bucket ([media] s3_bucket): django-storages' S3 storage
whose URLs are the site's own (MEDIA_URL + name), served by pages.views.media, so that the bucket
stays private and every app server serves every upload."""
from django.conf import settings
from django.utils.encoding import filepath_to_uri
from storages.backends.s3boto3 import S3Boto3Storage


class MediaStorage(S3Boto3Storage):
    def url(self, name, parameters=None, expire=None, http_method=None):
        return settings.MEDIA_URL + filepath_to_uri(name).lstrip("/")
