"""Fetch a supplier file over SFTP (paramiko), the server's host key pinned by fingerprint.

The pin is the SHA256 fingerprint as ``ssh-keygen -lf`` prints it (``SHA256:base64``).
A server with several host keys (Ed25519, ECDSA, RSA) is asked for each kind in turn
until one matches the pin; if none does the connection is refused before any credential
is sent, and the error lists the fingerprints the server presented.

Credentials are a password or a private key (PEM/OpenSSH text: RSA, Ed25519 or ECDSA,
optionally with a passphrase). The path may be a glob in its file name: the newest match
(by modification time) is taken. Downloads stream to disk in bounded windows and stop at
the size cap.
"""

from __future__ import annotations

import errno
import io
import stat
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import paramiko
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from feedsync.adapters.ftp_source import FtpSourceFetcher
from feedsync.adapters.http_source import (
    NO_DEADLINE,
    CappedSink,
    Deadline,
    DownloadedFile,
    HashSink,
    ServerFetcher,
    Watchdog,
    check_declared_size,
    connect,
    http_date,
    is_glob,
    newest,
    reraise_redacted,
    split_remote,
)
from feedsync.domain.source_state import ProbedSource
from feedsync.errors import (
    FeedsyncError,
    SourceAuthError,
    SourceError,
    SourceHostKeyMismatch,
    SourceNotFound,
    SourceUnavailable,
)

_BLOCK = 32 * 1024
_WINDOW = 8 * 1024 * 1024  # at most this much requested ahead of what is written to disk
# Host key algorithms by key kind, to ask a multi-key server for each of its keys.
_KEY_KINDS: tuple[tuple[str, ...], ...] = (
    ("ssh-ed25519",),
    ("ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"),
    ("rsa-sha2-512", "rsa-sha2-256"),
)
_ALL_KEY_ALGS = tuple(alg for kind in _KEY_KINDS for alg in kind)
T = TypeVar("T")


def normalize_fingerprint(value: str) -> str:
    """``SHA256:<base64 without padding>``; tolerates a missing prefix or ``=`` padding."""
    text = value.strip()
    if text.upper().startswith("SHA256:"):
        text = text[7:]
    return "SHA256:" + text.rstrip("=")


class SftpSourceFetcher(ServerFetcher):
    """Options (private addresses, size cap, timeouts) come from ServerFetcher."""

    def fetch(
        self,
        host: str,
        port: int | None,
        path: str,
        username: str,
        *,
        host_key_fingerprint: str,
        password: str | None = None,
        private_key: str | None = None,
        private_key_passphrase: str | None = None,
        dest_dir: str,
        max_bytes: int | None = None,
    ) -> DownloadedFile:
        """Download ``path`` (or the newest match of its glob) to ``dest_dir``."""
        cap = self.max_bytes if max_bytes is None else max_bytes
        started = Deadline(self.total_timeout_s, path)  # from the connection on

        def download(sftp: paramiko.SFTPClient, where: str) -> DownloadedFile:
            return self._download(sftp, path, dest_dir, cap, where, started.naming(where))

        login = (host, port, path, username, host_key_fingerprint, password, private_key)
        return self._session(*login, private_key_passphrase, download, deadline=started)

    def probe(
        self,
        host: str,
        port: int | None,
        path: str,
        username: str,
        *,
        host_key_fingerprint: str,
        password: str | None = None,
        private_key: str | None = None,
        private_key_passphrase: str | None = None,
    ) -> ProbedSource:
        """The file's size and modification time: one ``stat`` (one listing for a glob),
        the host key pinned as for a fetch. A file without a time is hashed as it streams."""

        def look(sftp: paramiko.SFTPClient, where: str) -> ProbedSource:
            step = f"looking up {path}"
            try:
                remote, size, mtime = self._locate(sftp, path, where)

                def stream(sink: HashSink) -> None:
                    nonlocal step
                    step = f"hashing {remote} (the server gives no modification time)"
                    with sftp.open(remote, "rb") as f:
                        _copy(f, size or 0, sink, self.read_timeout_s)

                return self.probed(remote, size, mtime, where, stream)
            except (OSError, paramiko.SSHException, EOFError) as exc:
                raise self._failure(exc, step, where) from exc

        login = (host, port, path, username, host_key_fingerprint, password, private_key)
        return self._session(*login, private_key_passphrase, look)

    def _session(
        self,
        host: str,
        port: int | None,
        path: str,
        username: str,
        host_key_fingerprint: str,
        password: str | None,
        private_key: str | None,
        private_key_passphrase: str | None,
        work: Callable[[paramiko.SFTPClient, str], T],
        deadline: Deadline = NO_DEADLINE,
    ) -> T:
        """Connect (host key pinned), log in, open SFTP and do ``work``; no secret in any
        error. ``deadline`` covers the whole session, handshake and login included."""
        port = port or 22
        where = f"sftp://{host}:{port}{path}"
        secrets = [s for s in (password, private_key, private_key_passphrase) if s]
        try:
            if not password and not private_key:
                raise SourceAuthError(f"{where}: no password or private key is stored")
            key = _load_key(private_key, private_key_passphrase, where) if private_key else None
            with Watchdog(deadline.naming(where)) as dog:
                transport = self._open(host, port, host_key_fingerprint, where, dog)
                try:
                    self._login(transport, username, password, key, where)
                    return work(self._sftp(transport, where), where)
                finally:
                    transport.close()
        except FeedsyncError as exc:
            reraise_redacted(exc, secrets)
            raise  # unreachable

    def presented_host_key(self, host: str, port: int | None) -> str:
        """The fingerprint of the host key the server presents first (``SHA256:...``), for a
        merchant to confirm before pinning it; nothing is sent but the SSH handshake."""
        port = port or 22
        where = f"sftp://{host}:{port}"
        with Watchdog(Deadline(self.total_timeout_s, where)) as dog:
            transport = self._handshake(host, port, [], where, quiet=False, dog=dog)
        assert transport is not None  # quiet=False: a failed handshake raises
        try:
            return str(transport.get_remote_server_key().fingerprint)
        finally:
            transport.close()

    # -- connection and host key -----------------------------------------------------

    def _open(
        self, host: str, port: int, pinned: str, where: str, dog: Watchdog | None = None
    ) -> paramiko.Transport:
        """A transport whose host key matches the pin; refuses (listing what was seen) else."""
        want = normalize_fingerprint(pinned) if pinned.strip() else ""
        seen: dict[str, str] = {}
        for kind in (None, *_KEY_KINDS):
            if kind is not None and any(name in kind for name in seen):
                continue  # already saw this kind of key
            disabled = [a for a in _ALL_KEY_ALGS if kind is not None and a not in kind]
            transport = self._handshake(
                host, port, disabled, where, quiet=kind is not None, dog=dog
            )
            if transport is None:
                continue  # the server has no key of this kind
            server_key = transport.get_remote_server_key()
            fingerprint = str(server_key.fingerprint)
            if want and fingerprint == want:
                return transport
            transport.close()
            seen[transport.host_key_type or server_key.get_name()] = fingerprint
            if not want:
                break
        presented = "; ".join(f"{name} {fp}" for name, fp in seen.items())
        if not want:
            raise SourceHostKeyMismatch(
                f"{where}: no host key fingerprint is pinned for this source; the server "
                f"presented {presented}. Check it with the supplier, then pin it."
            )
        raise SourceHostKeyMismatch(
            f"{where}: the server's host key does not match the pinned fingerprint {want}; "
            f"connection refused. The server presented {presented}. If the supplier changed "
            "its key, confirm the new fingerprint with them before updating the profile."
        )

    def _handshake(
        self,
        host: str,
        port: int,
        disabled_keys: list[str],
        where: str,
        *,
        quiet: bool,
        dog: Watchdog | None = None,
    ) -> paramiko.Transport | None:
        sock = connect(
            host,
            port,
            allow_private=self.allow_private,
            timeout_s=self.connect_timeout_s,
            where=where,
        )
        if dog is not None:
            dog.watch(sock)
        transport = paramiko.Transport(
            sock, disabled_algorithms={"keys": disabled_keys} if disabled_keys else None
        )
        transport.banner_timeout = self.read_timeout_s
        transport.handshake_timeout = self.read_timeout_s
        transport.auth_timeout = self.read_timeout_s
        try:
            transport.start_client(timeout=self.read_timeout_s)
            if transport.host_key is None:  # start_client returns quietly on its timeout
                raise paramiko.SSHException("Error reading SSH protocol banner (timed out)")
            return transport
        except (paramiko.SSHException, EOFError, OSError) as exc:
            transport.close()
            text = str(exc)
            if quiet and "host key" in text.lower():
                return None
            if "banner" in text.lower():
                raise SourceUnavailable(
                    f"{where}: no SSH greeting from {host} port {port} within "
                    f"{self.read_timeout_s:g}s (is this the SFTP port?)"
                ) from exc
            raise SourceError(
                f"{where}: SSH handshake failed ({text or type(exc).__name__})"
            ) from exc

    def _login(
        self,
        transport: paramiko.Transport,
        username: str,
        password: str | None,
        key: paramiko.PKey | None,
        where: str,
    ) -> None:
        tried = []
        try:
            if key is not None:
                tried.append("private key")
                try:
                    transport.auth_publickey(username, key)
                except paramiko.AuthenticationException:
                    if not password:
                        raise
            if not transport.is_authenticated() and password:
                tried.append("password")
                transport.auth_password(username, password)  # falls back to keyboard-interactive
        except paramiko.BadAuthenticationType as exc:
            raise SourceAuthError(
                f"{where}: the server does not accept {' or '.join(tried)} login "
                f"(it allows: {', '.join(exc.allowed_types) or 'nothing'})"
            ) from exc
        except paramiko.AuthenticationException as exc:
            raise SourceAuthError(
                f"{where}: login refused: the server did not accept the {' or '.join(tried)} "
                "for this user"
            ) from exc
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise SourceUnavailable(
                f"{where}: connection lost during login ({type(exc).__name__})"
            ) from exc
        if not transport.is_authenticated():
            raise SourceAuthError(f"{where}: login incomplete (the server wants more factors)")

    # -- files -----------------------------------------------------------------------

    def _sftp(self, transport: paramiko.Transport, where: str) -> paramiko.SFTPClient:
        try:
            sftp = paramiko.SFTPClient.from_transport(transport)
        except (OSError, paramiko.SSHException, EOFError) as exc:
            raise self._failure(exc, "opening the SFTP session", where) from exc
        if sftp is None:
            raise SourceError(f"{where}: the server refused the SFTP subsystem")
        channel = sftp.get_channel()
        if channel is not None:
            channel.settimeout(self.read_timeout_s)
        return sftp

    def _locate(
        self, sftp: paramiko.SFTPClient, path: str, where: str
    ) -> tuple[str, int | None, float | None]:
        """(remote path, size, mtime) of the file, or of the newest match of a glob."""
        directory, name = split_remote(path, where)
        if is_glob(name):
            files = [
                (a.filename, float(a.st_mtime or 0), a.st_size)
                for a in sftp.listdir_attr(directory)
                if a.st_mode is not None and stat.S_ISREG(a.st_mode)
            ]
            picked = newest(files, name)
            if picked is None:
                raise SourceNotFound(f"{where}: no file in {directory} matches {name!r}")
            return f"{directory.rstrip('/')}/{picked[0]}", picked[2], picked[1] or None
        attrs = sftp.stat(path)
        if attrs.st_mode is not None and stat.S_ISDIR(attrs.st_mode):
            raise SourceError(f"{where}: {path} is a folder, not a file")
        mtime = float(attrs.st_mtime) if attrs.st_mtime is not None else None
        return path, attrs.st_size, mtime

    def _download(
        self,
        sftp: paramiko.SFTPClient,
        path: str,
        dest_dir: str,
        max_bytes: int,
        where: str,
        deadline: Deadline,
    ) -> DownloadedFile:
        directory, name = split_remote(path, where)
        step = f"listing {directory}" if is_glob(name) else f"looking up {path}"
        try:
            remote, size, mtime = self._locate(sftp, path, where)
            check_declared_size(size, max_bytes, where)
            step = f"downloading {remote}"
            with (
                CappedSink(dest_dir, max_bytes, where, deadline) as sink,
                sftp.open(remote, "rb") as f,
            ):
                _copy(f, size or 0, sink, self.read_timeout_s)
        except (OSError, paramiko.SSHException, EOFError) as exc:
            raise self._failure(exc, step, where) from exc
        return DownloadedFile(
            path=sink.path,
            file_name=remote.rsplit("/", 1)[-1],
            size=sink.size,
            etag=None,
            last_modified=http_date(mtime),
            sha256=sink.digest.hexdigest(),
            remote_path=remote,
            mtime=mtime,
        )

    def _failure(self, exc: BaseException, step: str, where: str) -> FeedsyncError:
        """The named error for a failed SFTP operation."""
        if isinstance(exc, TimeoutError):
            return SourceUnavailable(
                f"{where}: {step}: no answer from the server in {self.read_timeout_s:g}s"
            )
        if isinstance(exc, OSError):
            if exc.errno == errno.ENOENT:
                return SourceNotFound(f"{where}: {step}: no such file or folder")
            if exc.errno == errno.EACCES:
                return SourceError(f"{where}: {step}: permission denied")
            return SourceUnavailable(f"{where}: {step}: failed ({exc.strerror or exc})")
        return SourceUnavailable(f"{where}: {step}: connection lost ({type(exc).__name__})")


def _copy(handle: paramiko.SFTPFile, size: int, sink: CappedSink | HashSink, read_s: float) -> None:
    """Pipelined reads in windows of _WINDOW (bounded memory), then read to the real end;
    each wait for the server at most the read timeout or the time left before the sink's
    deadline."""
    channel = handle.sftp.get_channel()

    def bound() -> None:
        if channel is not None:
            channel.settimeout(sink.deadline.read_timeout(read_s))

    try:
        offset = 0
        while offset < size:
            end = min(offset + _WINDOW, size)
            chunks = [(o, min(_BLOCK, end - o)) for o in range(offset, end, _BLOCK)]
            bound()
            for data in handle.readv(chunks):
                sink.write(data)
                bound()
            offset = end
        handle.seek(offset)
        bound()
        while data := handle.read(_BLOCK):  # the file grew after the stat (or size unknown)
            sink.write(data)
            bound()
    except TimeoutError as exc:
        if sink.deadline.passed():
            raise sink.deadline.error() from exc
        raise


_KEY_CLASSES: tuple[tuple[type[Any], type[paramiko.PKey]], ...] = (
    (rsa.RSAPrivateKey, paramiko.RSAKey),
    (ed25519.Ed25519PrivateKey, paramiko.Ed25519Key),
    (ec.EllipticCurvePrivateKey, paramiko.ECDSAKey),
)


def _load_key(text: str, passphrase: str | None, where: str) -> paramiko.PKey:
    """A paramiko key from PEM (PKCS#1, SEC1, PKCS#8) or OpenSSH private key text."""
    data = text.strip().encode() + b"\n"
    secret = passphrase.encode() if passphrase else None
    try:
        if b"OPENSSH PRIVATE KEY" in data:
            key: Any = serialization.load_ssh_private_key(data, secret)
        else:
            key = serialization.load_pem_private_key(data, secret)
    except TypeError:  # encrypted without a passphrase, or a passphrase for a clear key
        hint = (
            "it is encrypted and no passphrase is stored" if not secret else "it is not encrypted"
        )
        raise SourceAuthError(f"{where}: the private key cannot be used: {hint}") from None
    except (ValueError, UnsupportedAlgorithm):
        raise SourceAuthError(
            f"{where}: the private key cannot be read (not PEM/OpenSSH private key text, "
            "or a wrong passphrase)"
        ) from None
    for crypto_type, pkey_class in _KEY_CLASSES:
        if isinstance(key, crypto_type):
            clear = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.OpenSSH,
                serialization.NoEncryption(),
            ).decode()
            return pkey_class.from_private_key(io.StringIO(clear))
    raise SourceAuthError(
        f"{where}: unsupported private key type {type(key).__name__} (use RSA, Ed25519 or ECDSA)"
    )


class RemoteSourceFetcher(ServerFetcher):
    """``RemoteFileFetcher`` (core/ports.py): an FtpSource/SftpSource profile + its secret.

    ``credentials`` is the secret stored for the profile: ``password`` and/or
    ``private_key`` (and ``private_key_passphrase``). The options (ServerFetcher's)
    apply to both protocols.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.ftp = FtpSourceFetcher(**options)
        self.sftp = SftpSourceFetcher(**options)

    def fetch(self, source: Any, credentials: Mapping[str, str], dest_dir: str) -> DownloadedFile:
        kind = source.type
        if kind == "sftp":
            return self.sftp.fetch(
                source.host,
                source.port,
                source.path,
                source.username,
                host_key_fingerprint=source.host_key_fingerprint,
                password=credentials.get("password"),
                private_key=credentials.get("private_key"),
                private_key_passphrase=credentials.get("private_key_passphrase"),
                dest_dir=dest_dir,
            )
        if kind in ("ftp", "ftps"):
            return self.ftp.fetch(
                source.host,
                source.port,
                source.path,
                source.username,
                credentials.get("password", ""),
                tls="none" if kind == "ftp" else getattr(source, "tls", "explicit"),
                dest_dir=dest_dir,
                verify_tls=getattr(source, "verify_tls", True),
            )
        raise SourceError(f"{kind}: not an FTP/SFTP source")

    def probe(self, source: Any, credentials: Mapping[str, str]) -> ProbedSource:
        """The file's size and time (its ``remote_path`` says which file), as ``fetch``
        would connect for it."""
        kind = source.type
        if kind == "sftp":
            return self.sftp.probe(
                source.host,
                source.port,
                source.path,
                source.username,
                host_key_fingerprint=source.host_key_fingerprint,
                password=credentials.get("password"),
                private_key=credentials.get("private_key"),
                private_key_passphrase=credentials.get("private_key_passphrase"),
            )
        if kind in ("ftp", "ftps"):
            return self.ftp.probe(
                source.host,
                source.port,
                source.path,
                source.username,
                credentials.get("password", ""),
                tls="none" if kind == "ftp" else getattr(source, "tls", "explicit"),
                verify_tls=getattr(source, "verify_tls", True),
            )
        raise SourceError(f"{kind}: not an FTP/SFTP source")

    def host_key(self, source: Any) -> str:
        """The host key an SFTP source's server presents (see ``presented_host_key``)."""
        return self.sftp.presented_host_key(source.host, source.port)
