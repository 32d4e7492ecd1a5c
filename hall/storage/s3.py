"""Blobs in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, a cloud's object storage).

The key is ``<prefix>/<key>`` in the bucket. Credentials are boto3's own chain (in
practice ``AWS_ACCESS_KEY_ID`` and ``AWS_SECRET_ACCESS_KEY`` in the hall's environment):
they are never passed through the hall's settings, so they reach no log and no ``ps``.
Path-style addressing, so that an endpoint by IP address or without wildcard DNS works.

A PUT in S3 is whole or absent (a reader never sees half an object). Ranged reads are S3
``Range`` GETs, so a kiosk's 1 MiB release chunk costs the hall 1 MiB, not the file.
boto3 errors are translated here: a missing key is ``BlobNotFound``, anything else
(unreachable endpoint, timeout, access denied, missing bucket) ``StorageUnavailable``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from hall.storage import BlobNotFound, StorageUnavailable, check_key

log = logging.getLogger("hall.storage.s3")
_MISSING = {"404", "NoSuchKey", "NotFound"}
# Files above 16 MiB go up in parts (a release wheel, a large scan); one thread per upload:
# the hall's worker threads are its parallelism.
_TRANSFER = TransferConfig(multipart_threshold=16 * 1024 * 1024, multipart_chunksize=16 * 1024 * 1024,
                           use_threads=False)


class S3Store:
    def __init__(self, endpoint: str, bucket: str, region: str = "us-east-1", prefix: str = "") -> None:
        if not bucket:
            raise StorageUnavailable("object storage needs a bucket (--s3-bucket)")
        self.bucket = bucket
        self.endpoint = endpoint
        self.prefix = prefix.strip("/")
        config = Config(signature_version="s3v4", s3={"addressing_style": "path"},
                        retries={"max_attempts": 3, "mode": "standard"},
                        connect_timeout=5, read_timeout=30)
        self._client = boto3.session.Session().client("s3", endpoint_url=endpoint or None,
                                                      region_name=region or None, config=config)

    def __repr__(self) -> str:  # no credentials here: the client holds them, and is not shown
        return f"S3Store(endpoint={self.endpoint!r}, bucket={self.bucket!r}, prefix={self.prefix!r})"

    def _key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _fail(self, exc: Exception, key: str) -> Exception:
        if isinstance(exc, ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _MISSING:
                return BlobNotFound(f"no blob {key}")
            log.warning("object storage refused %s: %s", key, code)
        else:
            log.warning("object storage unreachable for %s: %s", key, type(exc).__name__)
        return StorageUnavailable("object storage did not answer; try again later")

    def put(self, key: str, data: bytes) -> None:
        try:
            self._client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)
        except (BotoCoreError, ClientError) as exc:
            raise self._fail(exc, key) from exc

    def put_file(self, key: str, path: Path) -> None:
        try:
            self._client.upload_file(str(path), self.bucket, self._key(key), Config=_TRANSFER)
        except (BotoCoreError, ClientError) as exc:
            raise self._fail(exc, key) from exc
        except S3UploadFailedError as exc:  # boto3's transfer wraps a refused upload in its own error
            log.warning("object storage refused the file for %s", key)
            raise StorageUnavailable("object storage did not take the file; try again later") from exc

    def adopt(self, key: str, path: Path) -> None:
        self.put_file(key, path)
        Path(path).unlink(missing_ok=True)

    def get(self, key: str) -> bytes:
        try:
            return bytes(self._client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read())
        except (BotoCoreError, ClientError) as exc:
            raise self._fail(exc, key) from exc

    def get_range(self, key: str, start: int, end: int) -> bytes:
        if end < start:
            return b""
        try:
            answer = self._client.get_object(Bucket=self.bucket, Key=self._key(key),
                                             Range=f"bytes={start}-{end}")
            return bytes(answer["Body"].read())
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code", "")) == "InvalidRange":
                return b""  # start past the end: as a file read there gives
            raise self._fail(exc, key) from exc
        except BotoCoreError as exc:
            raise self._fail(exc, key) from exc

    def exists(self, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except ClientError as exc:
            failure = self._fail(exc, key)
            if isinstance(failure, BlobNotFound):
                return False
            raise failure from exc
        except BotoCoreError as exc:
            raise self._fail(exc, key) from exc

    def delete(self, key: str) -> None:
        try:
            self._client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except (BotoCoreError, ClientError) as exc:
            raise self._fail(exc, key) from exc

    def keys(self, prefix: str = "") -> Iterator[str]:
        full = self._key(prefix) + "/" if prefix else (self.prefix + "/" if self.prefix else "")
        strip = len(self.prefix) + 1 if self.prefix else 0
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=full)
            for page in pages:
                for item in page.get("Contents", []):
                    yield str(item["Key"])[strip:]
        except (BotoCoreError, ClientError) as exc:
            raise self._fail(exc, prefix or "/") from exc
