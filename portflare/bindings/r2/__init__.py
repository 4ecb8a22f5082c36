"""R2: ``env.<BINDING>`` for each ``r2_buckets`` entry.

Backends by ``PORTFLARE_<BINDING>`` URL: unset → files under ``<state>/r2/<bucket>/`` (embedded default);
``file:///abs/dir`` → the same, rooted at that directory; ``s3://KEY:SECRET@host:port/bucket?region=..&secure=false``
→ any S3-compatible store (AWS S3, MinIO, Ceph, R2 itself), path-style.
"""

from __future__ import annotations

from portflare.backends import BackendTarget, load_backend_class
from portflare.bindings.r2.binding import R2Bucket, R2MultipartUpload
from portflare.bindings.r2.objects import R2Object, R2ObjectBody

BACKENDS = {
    "embedded": "portflare.bindings.r2.fs:FsR2Backend",
    "file": "portflare.bindings.r2.fs:FsR2Backend",
    "s3": "portflare.bindings.r2.s3:S3R2Backend",
}


async def open_binding(target: BackendTarget) -> R2Bucket:
    backend = await load_backend_class("r2", BACKENDS, target).open(target)
    return R2Bucket(backend)


__all__ = ["BACKENDS", "R2Bucket", "R2MultipartUpload", "R2Object", "R2ObjectBody", "open_binding"]
