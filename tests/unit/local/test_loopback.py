"""``feedsync serve --loopback-only``: nothing but loopback is looked up or connected to.

The guard is a process-wide audit hook that cannot be removed, so it is tried in a child
process, never in the test process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from feedsync_local.loopback import is_loopback_host

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True),
        ("localhost", True), ("LOCALHOST.", True), ("api.localhost", True), (b"127.0.0.1", True),
        (None, True),
        ("10.0.0.1", False), ("169.254.169.254", False), ("0.0.0.0", False),
        ("::ffff:10.0.0.1", False), ("example.com", False), ("localhost.example.com", False),
        ("", False), (80, False),
    ],
)  # fmt: skip
def test_only_names_and_addresses_of_this_machine_are_loopback(
    host: object, loopback: bool
) -> None:
    # Given a host as a socket call receives it
    # When it is judged
    # Then only this machine's names and addresses pass
    assert is_loopback_host(host) is loopback


def _child(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(["layers/common", "local", "."])}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_a_confined_process_reaches_loopback_and_nothing_else() -> None:
    # Given a process confined to loopback, with a server of its own on 127.0.0.1
    done = _child(
        """
        import socket, requests
        from feedsync_local.loopback import confine_to_loopback
        server = socket.create_server(("127.0.0.1", 0))
        port = server.getsockname()[1]
        confine_to_loopback()
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        print("loopback: connected")
        for target in (("192.0.2.1", 80), ("10.0.0.1", 443)):
            try:
                socket.socket().connect(target)
            except ConnectionRefusedError as exc:
                print("address:", exc)
        try:
            socket.create_connection(("169.254.169.254", 80), timeout=5)
        except socket.gaierror as exc:
            print("metadata:", exc)
        try:
            socket.getaddrinfo("example.com", 443)
        except socket.gaierror as exc:
            print("lookup:", exc)
        try:
            requests.get("https://example.com/feed.csv", timeout=5)
        except requests.ConnectionError as exc:
            print("requests:", "loopback only: 'example.com' is not loopback" in str(exc))
        """
    )
    # When it connects and looks up
    # Then loopback works, every other address and name lookup is refused before it leaves
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "loopback: connected",
        "address: loopback only: '192.0.2.1' is not a loopback address",
        "address: loopback only: '10.0.0.1' is not a loopback address",
        "metadata: [Errno -2] loopback only: '169.254.169.254' is not loopback",
        "lookup: [Errno -2] loopback only: 'example.com' is not loopback",
        "requests: True",
    ]
