"""S3 blob store: run files, uploads, catalog indexes."""

from __future__ import annotations

import io
from typing import IO, TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from feedsync.errors import NotFound

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CopySourceTypeDef

_MISSING = {"NoSuchKey", "404", "NotFound"}
# Presigned URLs signed with Signature Version 4 sign the host only: an upload with any
# Content-Type (curl's --data-binary says it is a form) is taken. botocore's default for S3
# presigning is the deprecated version 2, which signs the Content-Type too.
_SIGV4 = Config(signature_version="s3v4")


class _BodyReader(io.RawIOBase):
    """Raw stream over a botocore StreamingBody so io.BufferedReader/TextIOWrapper can wrap it."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._body.read(len(buffer))
        n = len(chunk)
        buffer[:n] = chunk
        return n

    def close(self) -> None:
        self._body.close()
        super().close()


class S3BlobStore:
    def __init__(self, bucket: str, client: S3Client | None = None) -> None:
        self.bucket = bucket
        self.client: S3Client = client or boto3.client("s3", config=_SIGV4)

    def put_bytes(
        self, key: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def get_bytes(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response["Error"]["Code"] in _MISSING:
                raise NotFound(f"s3://{self.bucket}/{key} does not exist") from exc
            raise

    def open_read(self, key: str) -> IO[bytes]:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] in _MISSING:
                raise NotFound(f"s3://{self.bucket}/{key} does not exist") from exc
            raise
        return io.BufferedReader(_BodyReader(body), buffer_size=1 << 20)

    def open_read_tagged(self, key: str) -> tuple[IO[bytes], str]:
        try:
            got = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in _MISSING:
                raise NotFound(f"s3://{self.bucket}/{key} does not exist") from exc
            raise
        reader = io.BufferedReader(_BodyReader(got["Body"]), buffer_size=1 << 20)
        return reader, got["ETag"]

    def open_read_range(self, key: str, start: int = 0) -> tuple[IO[bytes], str]:
        extra: dict[str, Any] = {"Range": f"bytes={start}-"} if start > 0 else {}
        try:
            got = self.client.get_object(Bucket=self.bucket, Key=key, **extra)
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code in _MISSING:
                raise NotFound(f"s3://{self.bucket}/{key} does not exist") from exc
            if code not in ("InvalidRange", "416"):
                raise
            # Nothing from ``start`` on (the object is shorter now): empty, with its ETag.
            head = self.head(key)
            if head is None:
                raise NotFound(f"s3://{self.bucket}/{key} does not exist") from exc
            return io.BytesIO(b""), f'"{head["etag"]}"'
        reader = io.BufferedReader(_BodyReader(got["Body"]), buffer_size=1 << 20)
        return reader, got["ETag"]

    def upload_file_if_match(self, path: str, key: str, etag: str) -> bool:
        # One conditional PUT (S3 takes up to 5 GB in one); a catalog index is far smaller.
        with open(path, "rb") as body:
            try:
                self.client.put_object(
                    Bucket=self.bucket, Key=key, Body=body, IfMatch=etag, ContentType="text/csv"
                )
            except ClientError as exc:
                if exc.response["Error"]["Code"] in ("PreconditionFailed", "412"):
                    return False
                raise
        return True

    def upload_file(
        self, path: str, key: str, content_type: str = "application/octet-stream"
    ) -> None:
        # upload_file switches to multipart above its threshold: large files stream from disk.
        self.client.upload_file(path, self.bucket, key, ExtraArgs={"ContentType": content_type})

    def download_file(self, key: str, path: str) -> None:
        self.client.download_file(self.bucket, key, path)

    def head(self, key: str, version: str | None = None) -> dict[str, Any] | None:
        try:
            if version:
                got = self.client.head_object(Bucket=self.bucket, Key=key, VersionId=version)
            else:
                got = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in _MISSING:
                return None
            raise
        return {"size": got["ContentLength"], "etag": got.get("ETag", "").strip('"')}

    def copy(self, source_key: str, key: str, version: str | None = None) -> None:
        source: CopySourceTypeDef = {"Bucket": self.bucket, "Key": source_key}
        if version:
            source["VersionId"] = version
        self.client.copy(source, self.bucket, key)

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def presign_put(self, key: str, expires_s: int) -> str:
        return self.client.generate_presigned_url(
            "put_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_s
        )

    def presign_get(self, key: str, expires_s: int) -> str:
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_s
        )
