"""Everything `feedsync serve` and `feedsync demo` run: stack, API, sandbox, supplier server."""

from __future__ import annotations

import functools
import secrets
import threading
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from typing import Any

from feedsync_local.apiserver import LocalApi
from feedsync_local.bigcommerce_double import SandboxStore
from feedsync_local.httpserver import LoopbackServer
from feedsync_local.scheduler_tick import SchedulerTick, moto_schedules
from feedsync_local.stack import LocalStack

DEMO_EMAIL = "demo@feedsync.local"


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class FileServer:
    """A supplier's web server on loopback, serving one directory."""

    def __init__(self, directory: Path, port: int = 0) -> None:
        handler = functools.partial(_QuietFiles, directory=str(directory))
        self.server = LoopbackServer(("127.0.0.1", port), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class LocalEnvironment:
    def __init__(
        self,
        *,
        api_port: int = 0,
        sandbox_port: int = 0,
        quota: tuple[int, float] = (150, 30.0),
        files_dir: Path | None = None,
        files_port: int = 0,
        run_scheduler: bool = True,
    ) -> None:
        self.run_scheduler = run_scheduler
        # Loopback sources and the sandbox store are allowed; schedules down to 1 minute.
        self.stack = LocalStack(
            extra_env={"ALLOW_PRIVATE_URLS": "true", "DEFAULT_MIN_INTERVAL_MINUTES": "1"}
        )
        self.tick: SchedulerTick | None = None
        self.sandbox = SandboxStore(
            port=sandbox_port, quota_requests=quota[0], quota_window_s=quota[1]
        )
        self.api_port = api_port
        self.files_dir = files_dir
        self.files_port = files_port
        self.api: LocalApi | None = None
        self.files: FileServer | None = None
        self.api_key = ""
        self.tenant_id = "tenant-local"
        # The demo tenant's owner, signed in to with email and password (Cognito on moto).
        self.demo_email = DEMO_EMAIL
        self.demo_password = ""

    def start(self) -> LocalEnvironment:
        self.stack.start()
        self.sandbox.start()
        self.api = LocalApi(self.stack, port=self.api_port).start()
        if self.files_dir is not None:
            self.files = FileServer(self.files_dir, self.files_port)
        self.api_key = self.new_tenant(self.tenant_id)
        self.demo_password = self.new_user(self.tenant_id, self.demo_email, "owner")
        if self.run_scheduler:
            schedules = moto_schedules(
                self.stack.client("scheduler"), self.stack.env["SCHEDULE_GROUP"]
            )
            self.tick = SchedulerTick(schedules, self.stack.invoke_arn).start()
        return self

    def new_tenant(self, tenant_id: str, name: str | None = None) -> str:
        """The tenant's record and its owner key ``default`` (returned)."""
        from feedsync.core.api import register_api_key
        from feedsync.wiring import accounts, deps

        wired, members = deps(), accounts().members
        if members.get_tenant(tenant_id) is None:
            members.create_tenant(
                tenant_id, name or tenant_id, wired.clock().isoformat(), "feedsync"
            )
        key = f"fsk_{secrets.token_urlsafe(24)}"
        register_api_key(wired, tenant_id, key)
        return key

    def new_user(self, tenant_id: str, email: str, role: str) -> str:
        """A confirmed user of ``tenant_id`` with ``role``; its (random) password."""
        from feedsync.core.accounts import add_ready_user
        from feedsync.wiring import accounts, deps

        # Cognito's policy (template.yaml): 12+ characters, upper and lower case, a digit.
        password = f"Fs{secrets.token_urlsafe(12)}9z"
        add_ready_user(deps(), accounts(), tenant_id, email, password, role)
        return password

    def stop(self) -> None:
        if self.tick:
            self.tick.stop()
        if self.files:
            self.files.stop()
        if self.api:
            self.api.stop()
        self.sandbox.stop()
        self.stack.stop()

    def __enter__(self) -> LocalEnvironment:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
