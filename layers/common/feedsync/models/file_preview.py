"""POST /file-preview: a source and format to try before saving a profile."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from feedsync.models import FeedFormat, FtpSource, SftpSource, UploadSource, UrlSource

PREVIEW_ROWS_MAX = 100


class SftpPreviewSource(SftpSource):
    """An SFTP source whose host key may not be known yet: the preview then answers the
    fingerprint the server presents (and logs in to nothing) for the merchant to confirm."""

    host_key_fingerprint: str | None = Field(  # type: ignore[assignment]
        default=None,
        pattern=r"^SHA256:[A-Za-z0-9+/]{43}=?$",
        description="the pinned host key; leave it out to learn the server's",
    )


PreviewSource = Annotated[
    UrlSource | FtpSource | SftpPreviewSource | UploadSource, Field(discriminator="type")
]


class FilePreviewBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: PreviewSource = Field(description="as a profile's `source`")
    format: FeedFormat | None = Field(
        default=None, description="as a profile's `format`; left out: everything detected"
    )
    profile_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="the profile being edited: credentials left out of `source` are its stored "
        "ones (same server and user only); an upload source previews its latest upload",
    )
    rows: int = Field(default=20, ge=1, le=PREVIEW_ROWS_MAX, description="how many records")


class HostKey(BaseModel):
    fingerprint: str = Field(examples=["SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"])
    pinned: bool = Field(description="whether it is the fingerprint the source pins")


class FilePreview(BaseModel):
    file_name: str | None = Field(description="null when the SFTP host key is not confirmed")
    size: int | None = Field(description="bytes read")
    detected: dict[str, Any] | None = Field(
        description="how the file was read: `format`, `encoding`, `delimiter`, `header_row`, "
        "`sheet`, `sheets` (null where the reader does not list them), `compression`, "
        "`entry`, `record_path`, `decimal_separator`, `bom`"
    )
    columns: list[str] = Field(description="the header's columns (letters without a header)")
    rows: list[list[str]] = Field(description="the first records, cells as text")
    host_key: HostKey | None = Field(description="SFTP: the key the server presented")
    message: str | None = Field(
        default=None, description="why no file was read (an SFTP host key to confirm)"
    )
