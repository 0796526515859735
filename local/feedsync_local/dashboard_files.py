"""The merchant's dashboard as `feedsync serve` hands it out: the built files of `dashboard/`.

The pages are static (one HTML page, one script, one stylesheet, built by `make dashboard`),
so they are served beside the API on the same origin without the authorizer: the page asks
for the API key and sends it with each API call. On AWS the same files sit in S3 behind
CloudFront (ARCHITECTURE.md).
"""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path
from urllib.parse import urlsplit

DIST_ENV = "FEEDSYNC_DASHBOARD_DIR"
DEFAULT_DIST = Path(__file__).resolve().parents[2] / "dashboard" / "dist"

# Everything the page loads comes from feedsync itself: no CDN, no remote font, no inline script.
# The one other place it talks to is where an upload URL points (the files bucket): the editor
# PUTs a supplier file there (UPLOAD_ORIGIN_ENV, else the local stack's S3 endpoint). The
# sign-in forms call Cognito's JSON API from the browser: its endpoint (COGNITO_ENDPOINT_ENV, as
# `GET /auth/config` names it; locally moto's server, which answers the CORS preflight itself).
UPLOAD_ORIGIN_ENV = "FEEDSYNC_UPLOAD_ORIGIN"
COGNITO_ENDPOINT_ENV = "COGNITO_ENDPOINT"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def upload_origin() -> str | None:
    return _origin(os.environ.get(UPLOAD_ORIGIN_ENV) or os.environ.get("AWS_ENDPOINT_URL"))


def cognito_origin() -> str | None:
    return _origin(os.environ.get(COGNITO_ENDPOINT_ENV) or os.environ.get("AWS_ENDPOINT_URL"))


def content_security_policy(*other_origins: str) -> str:
    """The page's policy; the other origins it may call default to this process's upload and
    Cognito endpoints (the template's CloudFront policy names the files bucket's hosts and
    cognito-idp.<region>.amazonaws.com instead: same policy otherwise)."""
    found = other_origins or tuple(filter(None, (upload_origin(), cognito_origin())))
    origins = tuple(dict.fromkeys(found))  # once each, in order
    connect = " ".join(("'self'", *origins))
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src {connect}; font-src 'self'; form-action 'none'; base-uri 'none'; "
        "frame-ancestors 'none'"
    )


def dist_dir() -> Path:
    return Path(os.environ.get(DIST_ENV) or DEFAULT_DIST)


def is_dashboard_path(path: str) -> bool:
    """`/` and `/index.html` are the page, `/assets/...` its files; every other path is the API."""
    return path in ("/", "/index.html") or path.startswith("/assets/")


def dashboard_file(path: str) -> tuple[int, dict[str, str], bytes]:
    root = dist_dir().resolve()
    relative = "index.html" if path in ("/", "/index.html") else path.lstrip("/")
    target = (root / relative).resolve()
    if root not in target.parents or not target.is_file():
        if not (root / "index.html").is_file():
            message = f"the dashboard is not built ({root}): run `make dashboard`"
            return 503, {"Content-Type": "text/plain; charset=utf-8"}, message.encode()
        return 404, {"Content-Type": "text/plain; charset=utf-8"}, b"not found"
    kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/javascript", "text/javascript"):
        kind += "; charset=utf-8"
    headers = {"Content-Type": kind, "Content-Security-Policy": content_security_policy()}
    return 200, {**headers, **SECURITY_HEADERS}, target.read_bytes()
