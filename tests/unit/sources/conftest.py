"""Real servers on loopback ports for the source fetcher tests.

- ``sshd``: OpenSSH ``/usr/sbin/sshd -D`` run as root with a config, host keys (Ed25519 and
  RSA) and authorized keys generated in a temporary folder; it serves SFTP only
  (``ForceCommand internal-sftp``) to the local test user that ``scripts/test-servers.sh``
  creates (``feedsync-sftp``, known test password) with password and key login.
- ``ftp_servers``: pyftpdlib in a thread: plain FTP, explicit FTPS (AUTH TLS), implicit
  FTPS (TLS before the greeting) and a server without MLSD, with the self-signed
  certificate for 127.0.0.1 of ``cert`` (in ``tests/unit/conftest.py``).
- ``nginx``: ``nginx -g 'daemon off;'`` with a generated nginx.conf: static files (ETag,
  Last-Modified, 304s), basic/bearer/header/query-token auth and redirects, on two ports
  (two origins, to check credentials never follow a redirect to another origin).

Nothing is skipped: a missing binary or user fails the tests, naming
``scripts/test-servers.sh``, which installs them.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler, TLS_FTPHandler
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import FTPServer

if TYPE_CHECKING:  # the certificate fixture is tests/unit/conftest.py's
    from conftest import Cert

SFTP_USER = os.environ.get("FEEDSYNC_TEST_SFTP_USER", "feedsync-sftp")
SFTP_PASSWORD = os.environ.get("FEEDSYNC_TEST_SFTP_PASSWORD", "feedsync-test-password")
FTP_USER, FTP_PASSWORD = "supplier", "ftp-s3cret-pw"
SETUP = "run scripts/test-servers.sh (as root) to install the test servers"

# The files every server serves: a folder with three stock files of different ages.
OLD, MID, NEW = 1_700_000_000, 1_700_100_000, 1_700_200_000
FILES: dict[str, tuple[bytes, int]] = {
    "out/stock_2024-01.csv": (b"SKU,Qty\nA-1,1\n", OLD),
    "out/stock_2024-03.csv": (b"SKU,Qty\nA-1,3\n", NEW),  # newest by mtime
    "out/stock_2024-02.csv": (b"SKU,Qty\nA-1,2\n", MID),
    "out/prices.csv": (b"SKU,Price\nA-1,9.99\n", NEW + 10),  # newer, but not a match
    "out/big.csv": (b"x" * 300_000, OLD),
}


def populate(root: Path) -> None:
    for rel, (data, mtime) in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.utime(path, (mtime, mtime))
    (root / "out" / "stock_folder.csv").mkdir(exist_ok=True)  # a folder never matches
    os.utime(root / "out" / "stock_folder.csv", (NEW + 99, NEW + 99))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            pytest.fail(f"{what} exited with {proc.returncode}: {out}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    proc.kill()
    pytest.fail(f"{what} did not listen on port {port}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def require(binary: str) -> str:
    path = shutil.which(binary) or (binary if os.access(binary, os.X_OK) else None)
    if not path:
        pytest.fail(f"{binary} is not installed: {SETUP}")
    return path


# -- sshd ------------------------------------------------------------------------------


@dataclass
class Sshd:
    port: int
    root: Path  # served files: root / "out" / ...
    fingerprints: dict[str, str]  # "ed25519" / "rsa" -> SHA256:...
    user_keys: dict[str, str] = field(default_factory=dict)  # kind -> private key text
    user: str = SFTP_USER
    password: str = SFTP_PASSWORD


def _keygen(path: Path, kind: str, *extra: str) -> str:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "feedsync-test", "-f", str(path), *extra],
        check=True,
        capture_output=True,
    )
    return path.read_text()


def _fingerprint(pub: Path) -> str:
    out = subprocess.run(["ssh-keygen", "-lf", str(pub)], check=True, capture_output=True)
    return out.stdout.decode().split()[1]  # "256 SHA256:... comment (ED25519)"


@pytest.fixture(scope="session")
def sshd() -> Iterator[Sshd]:
    binary = require("/usr/sbin/sshd")
    require("ssh-keygen")
    if os.geteuid() != 0:
        pytest.fail("the SFTP tests run sshd as root (password login needs it)")
    try:
        pwd.getpwnam(SFTP_USER)
    except KeyError:
        pytest.fail(f"no local user {SFTP_USER!r}: {SETUP}")
    # Not under pytest's tmp (mode 0700): the test user must read the served files.
    base = Path(tempfile.mkdtemp(prefix="feedsync-sshd-"))
    base.chmod(0o755)
    try:
        keys = base / "keys"
        keys.mkdir(mode=0o700)
        fingerprints = {}
        for kind in ("ed25519", "rsa"):
            _keygen(keys / f"host_{kind}", kind)
            fingerprints[kind] = _fingerprint(keys / f"host_{kind}.pub")
        users = base / "users"
        users.mkdir(mode=0o755)
        user_keys = {
            "ed25519": _keygen(users / "id_ed25519", "ed25519"),
            "ecdsa": _keygen(users / "id_ecdsa", "ecdsa", "-b", "384"),
            "rsa_pem": _keygen(users / "id_rsa", "rsa", "-b", "2048", "-m", "PEM"),
        }
        authorized = users / "authorized_keys"
        authorized.write_text(
            "".join((users / f"id_{k}.pub").read_text() for k in ("ed25519", "ecdsa", "rsa"))
        )
        authorized.chmod(0o644)
        populate(base / "files")
        for path in [base / "files", *(base / "files").rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        port = free_port()
        config = base / "sshd_config"
        config.write_text(
            f"""\
ListenAddress 127.0.0.1:{port}
HostKey {keys}/host_ed25519
HostKey {keys}/host_rsa
PidFile {base}/sshd.pid
AuthorizedKeysFile {authorized}
StrictModes no
UsePAM no
PermitRootLogin no
AllowUsers {SFTP_USER}
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AllowTcpForwarding no
X11Forwarding no
Subsystem sftp internal-sftp
ForceCommand internal-sftp
LogLevel VERBOSE
"""
        )
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation dir
        subprocess.run([binary, "-t", "-f", str(config)], check=True, capture_output=True)
        proc = subprocess.Popen(
            [binary, "-D", "-e", "-f", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_port(port, proc, "sshd")
            yield Sshd(port, base / "files", fingerprints, user_keys)
        finally:
            stop(proc)
    finally:
        shutil.rmtree(base, ignore_errors=True)


# -- FTP -------------------------------------------------------------------------------


@dataclass
class FtpServers:
    plain: int
    explicit: int
    implicit: int
    no_mlsd: int
    ca_file: str
    root: Path
    user: str = FTP_USER
    password: str = FTP_PASSWORD


class _ImplicitTlsHandler(TLS_FTPHandler):
    """Implicit FTPS: the TLS handshake starts as soon as the client connects."""

    def handle(self) -> None:
        self.secure_connection(self.ssl_context)
        super().handle()


class _NoMlsdHandler(FTPHandler):
    """An older server: no MLST/MLSD (clients fall back to NLST + MDTM)."""

    proto_cmds = {k: v for k, v in FTPHandler.proto_cmds.items() if k not in ("MLSD", "MLST")}


@pytest.fixture(scope="session")
def ftp_servers(tmp_path_factory: pytest.TempPathFactory, cert: Cert) -> Iterator[FtpServers]:
    root = tmp_path_factory.mktemp("ftp")
    populate(root)
    authorizer = DummyAuthorizer()
    authorizer.add_user(FTP_USER, FTP_PASSWORD, str(root), perm="elr")

    def handler(base: type[Any], **attrs: Any) -> type[Any]:
        attrs.setdefault("authorizer", authorizer)
        attrs.setdefault("banner", "feedsync test ftp")
        attrs.setdefault("auth_failed_timeout", 0.05)  # the default 3s delay per bad login
        return type(f"Test{base.__name__}", (base,), attrs)

    tls = {"certfile": cert.cert_file, "tls_control_required": True, "tls_data_required": True}
    servers = [
        # each its own IOLoop: by default all servers share one, which is not thread-safe
        FTPServer(("127.0.0.1", 0), handler(kind, **extra), ioloop=IOLoop())
        for kind, extra in (
            (FTPHandler, {}),
            (TLS_FTPHandler, tls),
            (_ImplicitTlsHandler, tls),
            (_NoMlsdHandler, {}),
        )
    ]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    ports = [int(s.address[1]) for s in servers]
    yield FtpServers(*ports, ca_file=cert.ca_file, root=root)
    for server in servers:
        server.close_all()


# -- nginx -----------------------------------------------------------------------------


@dataclass
class Nginx:
    port: int  # the supplier
    other_port: int  # another origin, for cross-origin redirects
    root: Path
    basic: tuple[str, str]
    bearer: str
    header: tuple[str, str]
    query: tuple[str, str]


NGINX_BASIC = ("merchant", "basic-pw-123")
NGINX_BEARER = "bearer-tok-456"
NGINX_HEADER = ("X-Api-Key", "hdr-key-789")
NGINX_QUERY = ("token", "qry-tok-012")


@pytest.fixture(scope="session")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    binary = require("/usr/sbin/nginx")
    base = tmp_path_factory.mktemp("nginx")
    root = base / "www"
    populate(root)
    (root / "feed.csv").write_bytes(b"SKU,Qty\nA-1,4\n")
    (base / "htpasswd").write_text(f"{NGINX_BASIC[0]}:{{PLAIN}}{NGINX_BASIC[1]}\n")
    port, other = free_port(), free_port()
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    temp = (
        "\n".join(
            f"  {kind}_temp_path {base}/{kind};" for kind in ("client_body", "proxy", "fastcgi")
        )
        + "\n"
        + "\n".join(f"  {kind}_temp_path {base}/{kind};" for kind in ("uwsgi", "scgi"))
    )
    (base / "nginx.conf").write_text(
        f"""\
{user}
worker_processes 1;
pid {base}/nginx.pid;
error_log {base}/error.log warn;
events {{ worker_connections 64; }}
http {{
  access_log off;
  default_type text/csv;
{temp}
  server {{
    listen 127.0.0.1:{port};
    root {root};
    location /basic/ {{
      auth_basic "supplier";
      auth_basic_user_file {base}/htpasswd;
      alias {root}/;
    }}
    location /bearer/ {{
      if ($http_authorization != "Bearer {NGINX_BEARER}") {{ return 401; }}
      alias {root}/;
    }}
    location /header/ {{
      if ($http_x_api_key != "{NGINX_HEADER[1]}") {{ return 403; }}
      alias {root}/;
    }}
    location /query/ {{
      if ($arg_token != "{NGINX_QUERY[1]}") {{ return 403; }}
      alias {root}/;
    }}
    location = /bearer-moved {{
      if ($http_authorization != "Bearer {NGINX_BEARER}") {{ return 401; }}
      return 302 /bearer/feed.csv;
    }}
    location = /moved {{ return 301 /feed.csv; }}
    location = /elsewhere {{ return 302 http://127.0.0.1:{other}/no-credentials/feed.csv; }}
  }}
  server {{
    listen 127.0.0.1:{other};
    root {root};
    location /no-credentials/ {{
      if ($http_authorization) {{ return 400; }}
      if ($arg_token) {{ return 400; }}
      alias {root}/;
    }}
  }}
}}
"""
    )
    conf = str(base / "nginx.conf")
    subprocess.run(
        [binary, "-t", "-q", "-e", "stderr", "-p", str(base), "-c", conf],
        check=True,
        capture_output=True,
    )
    proc = subprocess.Popen(
        [binary, "-e", "stderr", "-p", str(base), "-c", conf, "-g", "daemon off;"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, proc, "nginx")
        wait_for_port(other, proc, "nginx")
        yield Nginx(port, other, root, NGINX_BASIC, NGINX_BEARER, NGINX_HEADER, NGINX_QUERY)
    finally:
        stop(proc)


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every name looks up as 127.0.0.1 (the checked address); the names asked for are recorded."""
    real = socket.getaddrinfo
    lookups: list[str] = []

    def answer(host: str, *args: Any, **kwargs: Any) -> Any:
        lookups.append(host)
        return real("127.0.0.1", *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", answer)
    return lookups
