"""`feedsync admin tenants ...`: the operator's commands (issue 18), straight against the
stack's AWS resources with the caller's AWS credentials (no API key, no tenant).

Where the stack is: ``--stack NAME`` (CloudFormation finds its API function, whose
environment names the table, bucket, schedule group...), or ``--local`` (the local stack of
``feedsync serve`` at ``AWS_ENDPOINT_URL``, which it prints). The commands call the same core
as the API (core/tenants.py, core/plans.py), so a plan change re-checks the tenant's
profiles and every change is in the tenant's audit trail, by ``operator``.
Exit codes: 0 done, 2 refused (an unknown tenant or plan, a missing reason).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from feedsync.core.deps import Deps
from feedsync.errors import FeedsyncError

API_FUNCTION = "ApiFunction"
LOCAL_STACK = "feedsync-local"  # feedsync_local.stack.LocalStack's default name
LOCAL_REGION = "us-east-1"


class Refused(click.ClickException):
    exit_code = 2


class Operator:
    """The stack the commands act on, connected on first use."""

    def __init__(self, stack: str | None, local: bool, as_json: bool) -> None:
        self.stack, self.local, self.as_json = stack, local, as_json
        self.out = Console(highlight=False, width=None if sys.stdout.isatty() else 240)
        self._deps: Deps | None = None

    def deps(self) -> Deps:
        if self._deps is None:
            self._deps = _connect(self.stack, self.local)
        return self._deps

    def emit(self, body: Any, text: str | Table) -> None:
        if self.as_json:
            click.echo(json.dumps(body, indent=2, default=str))
        else:
            self.out.print(text)


def accounts() -> Any:
    """Cognito and the memberships, as the API function builds them (feedsync.wiring)."""
    from feedsync.wiring import accounts as wired

    return wired()


def _connect(stack: str | None, local: bool) -> Deps:
    """The core's dependencies over the stack's resources, as its functions build them."""
    from feedsync.adapters.aws_misc import stack_function_environment

    if local:
        if not os.environ.get("AWS_ENDPOINT_URL"):
            raise Refused("--local needs AWS_ENDPOINT_URL: the AWS endpoint feedsync serve prints")
        for name, value in (
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_DEFAULT_REGION", LOCAL_REGION),
            ("AWS_REGION", LOCAL_REGION),
        ):
            os.environ.setdefault(name, value)
        function = f"{LOCAL_STACK}-{API_FUNCTION}"
    elif not stack:
        raise Refused("say which stack: --stack NAME (CloudFormation), or --local")
    else:
        function = None
    try:
        env = stack_function_environment(API_FUNCTION, stack=stack, function_name=function)
    except FeedsyncError as exc:
        raise Refused(exc.message) from exc
    os.environ.update(env)
    if not os.environ.get("AWS_REGION"):  # (Lambda sets it; the account settings read it)
        import boto3

        os.environ["AWS_REGION"] = boto3.session.Session().region_name or ""
    from feedsync.settings import get_account_settings, get_settings
    from feedsync.wiring import accounts as wired_accounts
    from feedsync.wiring import deps

    get_settings.cache_clear()
    get_account_settings.cache_clear()
    deps.cache_clear()
    wired_accounts.cache_clear()
    return deps()


pass_operator = click.make_pass_decorator(Operator)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--stack", envvar="FEEDSYNC_STACK", help="the CloudFormation stack (FEEDSYNC_STACK)")
@click.option("--local", is_flag=True, help="the local stack at AWS_ENDPOINT_URL (feedsync serve)")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.pass_context
def admin(ctx: click.Context, stack: str | None, local: bool, as_json: bool) -> None:
    """The operator's commands, with AWS credentials: tenants, their plans and status."""
    ctx.obj = Operator(stack, local, as_json)


@admin.group()
def tenants() -> None:
    """Create, list, re-plan, disable and enable tenants."""


def _refusing(call: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return call(*args, **kwargs)
    except FeedsyncError as exc:
        raise Refused(exc.message) from exc


@tenants.command("create")
@click.option("--name", required=True, help="the shop's name, as its users see it")
@click.option("--owner-email", required=True, help="invited by email as the tenant's owner")
@click.option("--plan", "plan_name", help="a named plan (default: the stack's default plan)")
@pass_operator
def tenants_create(op: Operator, name: str, owner_email: str, plan_name: str | None) -> None:
    """A new tenant; its owner gets Cognito's invitation (a temporary password) by email."""
    from feedsync.core import tenants as core

    deps = op.deps()
    plan = _refusing(core.plan_named, plan_name) if plan_name else None
    people = accounts()
    tenant = _refusing(core.create_tenant, deps, people.members, name, plan)
    invited = _refusing(core.invite_owner, deps, people, tenant.tenant_id, owner_email)
    body = {**tenant.model_dump(mode="json"), "owner": invited.model_dump(mode="json")}
    op.emit(body, f"tenant {tenant.tenant_id} ({tenant.name}) created; {owner_email} invited")


@tenants.command("list")
@pass_operator
def tenants_list(op: Operator) -> None:
    """Every tenant: plan, status, profiles, runs this month, users."""
    from feedsync.core import tenants as core

    deps = op.deps()
    members = accounts().members
    lines = [
        {**core.overview(deps, t), "users": core.count_users(members, t.tenant_id)}
        for t in core.list_tenants(deps)
    ]
    table = Table("id", "name", "plan", "status", "profiles", "runs this month", "users")
    for line in lines:
        status = str(line["status"])
        if line["disabled_reason"]:
            status += f" ({line['disabled_reason']})"
        table.add_row(
            str(line["id"]), str(line["name"]), str(line["plan"]), status,
            str(line["profiles"]), str(line["runs_this_month"]), str(line["users"]),
        )  # fmt: skip
    op.emit({"tenants": lines}, table)


@tenants.command("plan")
@click.argument("tenant_id")
@click.argument("plan_name", metavar="PLAN")
@pass_operator
def tenants_plan(op: Operator, tenant_id: str, plan_name: str) -> None:
    """Put TENANT on PLAN; its profiles are re-checked (held or freed) at once."""
    from feedsync.core import tenants as core

    deps = op.deps()
    plan = _refusing(core.plan_named, plan_name)
    _refusing(core.get_tenant, deps, tenant_id)
    changed = core.change_plan(deps, tenant_id, plan)
    body = {"tenant_id": tenant_id, "plan": plan_name, "profiles_changed": changed}
    op.emit(body, f"tenant {tenant_id} on plan {plan_name}; {len(changed)} profile(s) changed")


@tenants.command("disable")
@click.argument("tenant_id")
@click.option("--reason", required=True, help="why: shown to its users in every refusal")
@pass_operator
def tenants_disable(op: Operator, tenant_id: str, reason: str) -> None:
    """Stop TENANT's runs (its schedules fire as skipped runs); its users can still read."""
    from feedsync.core import tenants as core

    tenant = _refusing(core.disable, op.deps(), tenant_id, reason)
    op.emit(tenant.model_dump(mode="json"), f"tenant {tenant_id} disabled: {reason}")


@tenants.command("enable")
@click.argument("tenant_id")
@pass_operator
def tenants_enable(op: Operator, tenant_id: str) -> None:
    """Let TENANT run again (its schedules' next fires run)."""
    from feedsync.core import tenants as core

    tenant = _refusing(core.enable, op.deps(), tenant_id)
    op.emit(tenant.model_dump(mode="json"), f"tenant {tenant_id} enabled")


@admin.group()
def keys() -> None:
    """API keys across tenants."""


@keys.command("migrate")
@pass_operator
def keys_migrate(op: Operator) -> None:
    """List every key from before keys had names and roles (each tenant's owner key
    "default"), so each can be seen and revoked; those used since the upgrade already are."""
    from feedsync.adapters.accounts import DynamoAccounts
    from feedsync.settings import get_settings

    op.deps()
    store = DynamoAccounts(get_settings().table_name)
    listed = [k for k in store.legacy_keys() if store.list_legacy_key(k)]
    body = {"listed": [{"tenant_id": k.tenant_id, "id": k.key_id} for k in listed]}
    lines = [f"{k.tenant_id}: {k.key_id} (default, owner)" for k in listed]
    op.emit(body, "\n".join([f"{len(listed)} old key(s) listed", *lines]))


def main(argv: list[str]) -> int:
    try:
        admin.main(args=argv, prog_name="feedsync admin", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.Abort:
        return 1
    return 0
