"""Who may call what: one table, every operation of ``/openapi.json`` in it.

``app.lambda_handler`` checks it before any route runs (and before the body is read), so a
viewer's write is a 403 whatever it sends. ``tests/unit/test_api_roles.py`` fails on an
operation missing here, and calls every operation as every role.
"""

from typing import Final

from feedsync.domain.access import Needs

ROUTE_ROLES: Final[dict[tuple[str, str], Needs]] = {
    ("GET", "/openapi.json"): "public",
    # accounts: the sign-in page's settings, who I am, a first workspace, the owner's users
    ("GET", "/auth/config"): "public",
    ("GET", "/me"): "signed_in",
    ("POST", "/tenants"): "signed_in",
    ("GET", "/users"): "owner",
    ("POST", "/users"): "owner",
    ("PATCH", "/users/{user_id}"): "owner",
    ("DELETE", "/users/{user_id}"): "owner",
    # settings and plan
    ("GET", "/settings/schedule"): "viewer",
    ("PUT", "/settings/schedule"): "editor",
    # a schedule's next run times: a POST (the schedule is the body), but it writes and
    # reaches nothing, so a viewer sees them too
    ("POST", "/schedule-preview"): "viewer",
    ("GET", "/plan"): "viewer",
    ("GET", "/settings/notifications"): "viewer",
    ("PUT", "/settings/notifications"): "editor",
    # stores
    ("POST", "/stores"): "editor",
    ("GET", "/stores"): "viewer",
    ("GET", "/stores/{store_id}"): "viewer",
    ("PATCH", "/stores/{store_id}"): "editor",
    ("DELETE", "/stores/{store_id}"): "editor",
    ("POST", "/stores/{store_id}/import"): "editor",
    # profiles, uploads, the file preview, conflicts, webhooks
    ("POST", "/profiles"): "editor",
    ("GET", "/profiles"): "viewer",
    ("GET", "/profiles/{profile_id}"): "viewer",
    ("PATCH", "/profiles/{profile_id}"): "editor",
    ("DELETE", "/profiles/{profile_id}"): "editor",
    ("POST", "/profiles/{profile_id}/upload-url"): "editor",
    ("POST", "/file-preview"): "editor",
    ("GET", "/profiles/{profile_id}/conflicts"): "viewer",
    ("POST", "/profiles/{profile_id}/conflicts/reapply"): "editor",
    ("POST", "/profiles/{profile_id}/conflicts/dismiss"): "editor",
    ("POST", "/profiles/{profile_id}/webhook-secret"): "editor",
    ("GET", "/profiles/{profile_id}/webhook-deliveries"): "viewer",
    # runs
    ("POST", "/profiles/{profile_id}/runs"): "editor",
    ("GET", "/profiles/{profile_id}/runs"): "viewer",
    ("GET", "/runs/{run_id}"): "viewer",
    ("GET", "/runs/{run_id}/log"): "viewer",
    ("GET", "/runs/{run_id}/changes"): "viewer",
    ("POST", "/runs/{run_id}/cancel"): "editor",
    ("POST", "/runs/{run_id}/apply"): "editor",
    ("POST", "/runs/{run_id}/retry"): "editor",
    ("POST", "/runs/{run_id}/revert"): "editor",
    # API keys and the audit trail
    ("POST", "/api-keys"): "owner",
    ("GET", "/api-keys"): "owner",
    ("DELETE", "/api-keys/{key_id}"): "owner",
    ("GET", "/audit"): "owner",
}
