"""Where static and media files live on S3 (AWS_STORAGE_BUCKET_NAME set).

One bucket, two folders, both served by CloudFront on the public host
(cloudformation/cdn.yaml routes /static/* and /media/* to the bucket).
"""

from __future__ import annotations

from storages.backends.s3 import S3ManifestStaticStorage, S3Storage


class S3StaticStorage(S3ManifestStaticStorage):
    """Static files under static/, with content-hashed names so the CDN caches
    them for a year. collectstatic overwrites them on each release."""

    location = "static"
    file_overwrite = True
    querystring_auth = False


class S3MediaStorage(S3Storage):
    """Uploads under media/. An upload never replaces another file with the
    same name (S3 gives the new one a suffix)."""

    location = "media"
    file_overwrite = False
    querystring_auth = False
