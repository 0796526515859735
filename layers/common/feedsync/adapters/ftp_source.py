"""Fetch a supplier file over FTP or FTPS (explicit or implicit TLS), passive mode.

The path may be a glob in its file name (``/out/stock_*.csv``): the folder is listed
(MLSD when the server has it, else NLST + MDTM) and the newest match is taken; the
result's ``remote_path`` says which. Downloads stream to disk and stop at the size cap.
"""

from __future__ import annotations

import ftplib
import socket
import ssl
from calendar import timegm
from collections.abc import Callable
from time import strptime
from typing import Literal, TypeVar

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
    SourceNotFound,
    SourceUnavailable,
)

Tls = Literal["none", "explicit", "implicit"]
_CHUNK = 1 << 16
_UNSUPPORTED = ("500", "501", "502", "504")


class _Ftp(ftplib.FTP_TLS):
    """FTP_TLS on a socket we connected (address policy checked), optionally implicit TLS."""

    def open(self, sock: socket.socket, host: str, port: int, implicit: bool) -> None:
        self.host, self.port = host, port
        if implicit:  # port 990 style: TLS before the server's greeting
            sock = self.context.wrap_socket(sock, server_hostname=host)
        self.sock = sock
        self.af = sock.family
        self.file = sock.makefile("r", encoding=self.encoding)
        self.welcome = self.getresp()

    def ntransfercmd(
        self, cmd: str, rest: int | str | None = None
    ) -> tuple[socket.socket, int | None]:
        # Reuse the control connection's TLS session on the data connection: vsftpd and
        # others refuse a data connection that does not (require_ssl_reuse).
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if getattr(self, "_prot_p", False):
            session = getattr(self.sock, "session", None)
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=session)
        return conn, size


class _Step:
    """What the session is doing, for the error that names it."""

    def __init__(self) -> None:
        self.now = "waiting for the server's greeting"


T = TypeVar("T")


class FtpSourceFetcher(ServerFetcher):
    """Options (private addresses, size cap, timeouts) come from ServerFetcher."""

    def fetch(
        self,
        host: str,
        port: int | None,
        path: str,
        username: str,
        password: str,
        *,
        tls: Tls,
        dest_dir: str,
        max_bytes: int | None = None,
        verify_tls: bool = True,
        ca_file: str | None = None,
    ) -> DownloadedFile:
        """Download ``path`` (or the newest match of its glob) to ``dest_dir``.

        ``port`` None means 990 for implicit TLS, else 21. ``verify_tls=False`` accepts any
        certificate (a supplier's self-signed one); ``ca_file`` trusts a given CA instead.
        """
        cap = self.max_bytes if max_bytes is None else max_bytes
        started = Deadline(self.total_timeout_s, path)  # from the connection on

        def download(ftp: _Ftp, step: _Step, where: str) -> DownloadedFile:
            remote, size, mtime = _locate(ftp, path, step, where)
            check_declared_size(size, cap, where)
            step.now = f"downloading {remote}"
            with CappedSink(dest_dir, cap, where, started.naming(where)) as sink:
                _retrieve(ftp, remote, sink, self.read_timeout_s)
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

        return self._session(
            host, port, path, username, password, tls, verify_tls, ca_file, download, started
        )

    def probe(
        self,
        host: str,
        port: int | None,
        path: str,
        username: str,
        password: str,
        *,
        tls: Tls,
        verify_tls: bool = True,
        ca_file: str | None = None,
    ) -> ProbedSource:
        """The file's size and modification time: one MLST (else SIZE + MDTM), or one
        listing for a glob. A server that gives no time has the file hashed as it streams
        (a download, kept nowhere)."""

        def look(ftp: _Ftp, step: _Step, where: str) -> ProbedSource:
            remote, size, mtime = _locate(ftp, path, step, where)

            def stream(sink: HashSink) -> None:
                step.now = f"hashing {remote} (the server gives no modification time)"
                _retrieve(ftp, remote, sink, self.read_timeout_s)

            return self.probed(remote, size, mtime, where, stream)

        return self._session(host, port, path, username, password, tls, verify_tls, ca_file, look)

    def _session(
        self,
        host: str,
        port: int | None,
        path: str,
        username: str,
        password: str,
        tls: Tls,
        verify_tls: bool,
        ca_file: str | None,
        work: Callable[[_Ftp, _Step, str], T],
        deadline: Deadline = NO_DEADLINE,
    ) -> T:
        """Connect, log in and do ``work``; every failure is a named error, the password
        nowhere in it. ``deadline`` covers the whole session, greeting and login included."""
        if tls not in ("none", "explicit", "implicit"):
            raise SourceError(f"ftp://{host}{path}: tls must be none, explicit or implicit")
        port = port or (990 if tls == "implicit" else 21)
        scheme = "ftp" if tls == "none" else "ftps"
        where = f"{scheme}://{host}:{port}{path}"
        try:
            context = _context(verify_tls, ca_file, where) if tls != "none" else None
            with Watchdog(deadline.naming(where)) as dog:
                return self._logged_in(
                    host, port, username, password, tls, context, where, work, dog
                )
        except FeedsyncError as exc:
            reraise_redacted(exc, [password])
            raise  # unreachable

    def _logged_in(
        self,
        host: str,
        port: int,
        username: str,
        password: str,
        tls: Tls,
        context: ssl.SSLContext | None,
        where: str,
        work: Callable[[_Ftp, _Step, str], T],
        dog: Watchdog,
    ) -> T:
        sock = connect(
            host,
            port,
            allow_private=self.allow_private,
            timeout_s=self.connect_timeout_s,
            where=where,
        )
        dog.watch(sock)
        sock.settimeout(self.read_timeout_s)
        ftp = _Ftp(context=context or ssl.create_default_context(), timeout=self.read_timeout_s)
        step = _Step()
        try:
            if tls == "implicit":
                step.now = "TLS handshake (implicit TLS)"
            ftp.open(sock, host, port, implicit=tls == "implicit")
            if tls == "explicit":
                step.now = "TLS handshake (AUTH TLS)"
                ftp.auth()
            step.now = "login"
            ftp.login(username, password, secure=False)
            if tls != "none":
                step.now = "securing the data connection (PROT P)"
                ftp.prot_p()
            ftp.set_pasv(True)
            ftp.voidcmd("TYPE I")
            return work(ftp, step, where)
        except FeedsyncError:
            raise
        except ftplib.error_perm as exc:
            raise _permanent(exc, step.now, where) from exc
        except ftplib.error_temp as exc:
            raise SourceUnavailable(f"{where}: {step.now}: server busy ({_reply(exc)})") from exc
        except ssl.SSLCertVerificationError as exc:
            raise SourceError(
                f"{where}: {step.now}: TLS certificate not trusted ({exc.verify_message}); "
                "set the supplier's CA, or turn certificate verification off for this source"
            ) from exc
        except ssl.SSLError as exc:
            raise SourceError(f"{where}: {step.now}: TLS failed ({exc.reason or exc})") from exc
        except TimeoutError as exc:
            raise SourceUnavailable(
                f"{where}: {step.now}: no answer from the server in {self.read_timeout_s:g}s"
            ) from exc
        except (EOFError, OSError, ftplib.Error) as exc:
            raise SourceUnavailable(
                f"{where}: {step.now}: connection lost ({exc.__class__.__name__})"
            ) from exc
        finally:
            _close(ftp, sock)


def _locate(ftp: _Ftp, path: str, step: _Step, where: str) -> tuple[str, int | None, float | None]:
    """(remote path, size, mtime) of the file, or of the newest match of a glob."""
    directory, name = split_remote(path, where)
    if is_glob(name):
        step.now = f"listing {directory}"
        picked = newest(_list(ftp, directory), name)
        if picked is None:
            raise SourceNotFound(f"{where}: no file in {directory} matches {name!r}")
        found, mtime, size = picked
        # (a listing without modify facts dates every file 0: no time to go by)
        return f"{directory.rstrip('/')}/{found}", size, mtime or None
    step.now = f"looking up {path}"
    return (path, *_stat(ftp, path, where))


def _stat(ftp: _Ftp, remote: str, where: str) -> tuple[int | None, float | None]:
    """Size and modification time: MLST's facts, else SIZE + MDTM (None: not given)."""
    facts = _mlst(ftp, remote, where)
    if facts is not None and facts.get("type", "file").lower() not in ("file", ""):
        raise SourceError(f"{where}: {remote} is a folder, not a file")
    size = int(facts["size"]) if facts and facts.get("size", "").isdigit() else None
    mtime = _ftp_time(facts.get("modify")) if facts else None
    if size is None:
        size = _size(ftp, remote, where)
    if mtime is None:
        mtime = _mdtm(ftp, remote)
    return size, mtime


def _mlst(ftp: _Ftp, remote: str, where: str) -> dict[str, str] | None:
    """The file's MLST facts (lower-case names); None when the server has no MLST."""
    try:
        reply = ftp.sendcmd(f"MLST {remote}")
    except ftplib.error_perm as exc:
        if str(exc).startswith(_UNSUPPORTED):
            return None
        if str(exc).startswith("550"):
            raise SourceNotFound(f"{where}: file not found ({_reply(exc)})") from exc
        raise
    for line in reply.splitlines()[1:]:
        if line.startswith(" "):  # " type=file;size=12;modify=20240101000000; /path"
            text = line.strip().partition(" ")[0]
            pairs = (fact.partition("=") for fact in text.split(";") if "=" in fact)
            return {key.lower(): value for key, _, value in pairs}
    return {}


def _context(verify: bool, ca_file: str | None, where: str) -> ssl.SSLContext:
    try:
        context = ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise SourceError(f"{where}: cannot read the CA file {ca_file!r}") from exc
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _reply(exc: BaseException) -> str:
    return str(exc).strip()[:200]


def _permanent(exc: ftplib.error_perm, step: str, where: str) -> FeedsyncError:
    reply = _reply(exc)
    if step == "login" or reply.startswith("530"):
        return SourceAuthError(
            f"{where}: login refused: the server did not accept the user name/password ({reply})"
        )
    if step.startswith("TLS"):
        return SourceError(f"{where}: {step}: the server does not offer TLS ({reply})")
    if reply.startswith(("550", "553")):
        return SourceNotFound(f"{where}: {step}: not found or not readable ({reply})")
    return SourceError(f"{where}: {step}: the server refused ({reply})")


def _list(ftp: _Ftp, directory: str) -> list[tuple[str, float, int | None]]:
    """(name, mtime, size) of the folder's files: MLSD, else NLST + MDTM."""
    try:
        entries: list[tuple[str, float, int | None]] = []
        for name, facts in ftp.mlsd(directory, facts=["type", "modify", "size"]):
            if facts.get("type", "file").lower() != "file":
                continue
            size = facts.get("size")
            entries.append(
                (name, _ftp_time(facts.get("modify")) or 0.0, int(size) if size else None)
            )
        return entries
    except ftplib.error_perm as exc:
        if not str(exc).startswith(_UNSUPPORTED):
            raise
    try:
        names = ftp.nlst(directory)
    except ftplib.error_perm as exc:  # many servers answer 550 for an empty folder
        if str(exc).startswith("550") and _folder_exists(ftp, directory):
            return []
        raise
    entries = []
    for full in names:
        name = full.rstrip("/").rsplit("/", 1)[-1]
        mtime = _mdtm(ftp, f"{directory.rstrip('/')}/{name}")
        if mtime is not None:  # folders have no MDTM
            entries.append((name, mtime, None))
    return entries


def _folder_exists(ftp: _Ftp, directory: str) -> bool:
    try:
        here = ftp.pwd()
        ftp.cwd(directory)
        ftp.cwd(here)
        return True
    except ftplib.error_perm:
        return False


def _ftp_time(value: str | None) -> float | None:
    """MLSD/MDTM time (``YYYYMMDDHHMMSS[.sss]``, UTC) as a Unix time."""
    if not value:
        return None
    try:
        whole, _, frac = value.strip().partition(".")
        return timegm(strptime(whole[:14], "%Y%m%d%H%M%S")) + float(f"0.{frac or 0}")
    except ValueError:
        return None


def _mdtm(ftp: _Ftp, remote: str) -> float | None:
    try:
        reply = ftp.sendcmd(f"MDTM {remote}")
    except ftplib.error_perm:
        return None
    return _ftp_time(reply[4:]) if reply.startswith("213") else None


def _size(ftp: _Ftp, remote: str, where: str) -> int | None:
    try:
        return ftp.size(remote)
    except ftplib.error_perm as exc:
        if str(exc).startswith(_UNSUPPORTED):
            return None  # no SIZE: RETR says whether the file exists
        if str(exc).startswith("550"):
            raise SourceNotFound(f"{where}: file not found ({_reply(exc)})") from exc
        raise


def _retrieve(ftp: _Ftp, remote: str, sink: CappedSink | HashSink, read_s: float) -> None:
    """RETR into ``sink``; each receive waits at most the read timeout or the time left
    before the sink's deadline."""
    ftp.voidcmd("TYPE I")  # again: listing (MLSD/NLST) switches to ASCII, which alters bytes
    conn = ftp.transfercmd(f"RETR {remote}")
    try:
        while True:
            conn.settimeout(sink.deadline.read_timeout(read_s))
            try:
                data = conn.recv(_CHUNK)
            except TimeoutError as exc:
                if sink.deadline.passed():
                    raise sink.deadline.error() from exc
                raise
            if not data:
                break
            sink.write(data)
        if isinstance(conn, ssl.SSLSocket):
            conn.unwrap()
    finally:
        conn.close()
    ftp.voidresp()


def _close(ftp: _Ftp, sock: socket.socket) -> None:
    try:
        if ftp.sock is not None:
            ftp.sock.settimeout(2)
            ftp.quit()
    except (OSError, EOFError, ftplib.Error, ValueError, AttributeError):
        pass
    ftp.close()
    sock.close()
