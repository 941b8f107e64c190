"""File storage behind one interface: a local folder (default) or S3 through boto3.

``STORAGE_URL=file:///path`` or ``STORAGE_URL=s3://bucket`` (with ``S3_ENDPOINT_URL``,
``S3_REGION``, ``S3_ACCESS_KEY_ID``, ``S3_SECRET_ACCESS_KEY`` for MinIO, moto or another
S3-compatible server). Keys always start with the tenant: ``<tenant_id>/<ticket_id>/<uuid>``.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlparse

from flask import current_app


class StorageError(RuntimeError):
    """The storage backend failed (unreachable, refused); callers keep the database unchanged."""


def make_key(tenant_id: int, *parts: object) -> str:
    """A storage key that always carries the tenant: ``<tenant>/<part>/.../<uuid>``."""
    return "/".join([str(tenant_id), *(str(p) for p in parts), uuid.uuid4().hex])


class LocalStorage:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise StorageError(f"invalid storage key {key!r}")
        return path

    def put(self, key: str, stream: BinaryIO, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        try:
            with open(tmp, "wb") as out:
                shutil.copyfileobj(stream, out)
            tmp.replace(path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise StorageError(str(exc)) from exc

    def open(self, key: str) -> BinaryIO:
        try:
            return open(self._path(key), "rb")
        except OSError as exc:
            raise StorageError(str(exc)) from exc

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def check(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        probe = self.root / ".healthcheck"
        try:
            probe.write_bytes(b"ok")
            probe.unlink()
        except OSError as exc:
            raise StorageError(str(exc)) from exc


class S3Storage:
    def __init__(self, bucket: str, *, endpoint_url=None, region=None, access_key=None, secret_key=None):
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=30,
            ),
        )

    def _call(self, method, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, method)(Bucket=self.bucket, **kwargs)
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"S3 {method} failed: {exc}") from exc

    def put(self, key: str, stream: BinaryIO, content_type: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.upload_fileobj(stream, self.bucket, key, ExtraArgs={"ContentType": content_type})
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"S3 upload failed: {exc}") from exc

    def open(self, key: str) -> BinaryIO:
        return self._call("get_object", Key=key)["Body"]

    def delete(self, key: str) -> None:
        self._call("delete_object", Key=key)

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise StorageError(str(exc)) from exc

    def presigned_url(self, key: str, *, filename: str, expires: int = 300) -> str:
        from urllib.parse import quote

        disposition = f"attachment; filename*=UTF-8''{quote(filename)}"
        return self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key, "ResponseContentDisposition": disposition},
            ExpiresIn=expires,
        )

    def check(self) -> None:
        self._call("head_bucket")

    def ensure_bucket(self) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self._call("create_bucket")


def storage_from_url(url: str, config: dict):
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalStorage(parsed.path)
    if parsed.scheme == "s3":
        return S3Storage(
            parsed.netloc,
            endpoint_url=config.get("S3_ENDPOINT_URL"),
            region=config.get("S3_REGION"),
            access_key=config.get("S3_ACCESS_KEY_ID"),
            secret_key=config.get("S3_SECRET_ACCESS_KEY"),
        )
    raise ValueError(f"unsupported STORAGE_URL {url!r}: use file:///path or s3://bucket")


def get_storage():
    """The app's storage backend (one per app)."""
    ext = current_app.extensions
    if "storage" not in ext:
        ext["storage"] = storage_from_url(current_app.config["STORAGE_URL"], current_app.config)
    return ext["storage"]
