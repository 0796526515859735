"""template.yaml serves the dashboard as feedsync serve does: the page and the REST API on one
CloudFront origin (so the page's CSP can stay 'self'), the files in a private bucket only the
distribution reads, the API never cached and given the merchant's Authorization header."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from feedsync_local.dashboard_files import content_security_policy
from feedsync_local.stack import unhandled_resources
from feedsync_local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES: dict[str, dict[str, Any]] = TEMPLATE["Resources"]
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def _distribution() -> dict[str, Any]:
    return RESOURCES["Dashboard"]["Properties"]["DistributionConfig"]  # type: ignore[no-any-return]


def test_the_dashboard_bucket_is_private_encrypted_tls_only_logged_and_read_by_cloudfront() -> None:
    # Given the dashboard's bucket and its policy
    bucket = RESOURCES["DashboardBucket"]["Properties"]
    (policy,) = [
        r["Properties"]
        for r in RESOURCES.values()
        if r["Type"] == "AWS::S3::BucketPolicy"
        and r["Properties"]["Bucket"] == {"Ref": "DashboardBucket"}
    ]
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}

    # Then it blocks public access, encrypts, and logs access beside the files bucket's logs
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert bucket["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": "AccessLogBucket"}
    # ... refuses plain HTTP, and lets only CloudFront read, for this distribution only
    deny = statements["DenyInsecureTransport"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}
    }
    read = statements["CloudFrontReadsTheDashboard"]
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert read["Action"] == "s3:GetObject"
    assert "${Dashboard}" in str(read["Condition"]["StringEquals"]["AWS:SourceArn"])
    # ... and the distribution reaches it through origin access control
    (origin,) = [o for o in _distribution()["Origins"] if o["Id"] == "dashboard"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["DashboardOriginAccess", "Id"]}


def test_the_api_is_the_default_behaviour_uncached_with_every_method_and_the_key() -> None:
    # Given the distribution
    config = _distribution()
    (api,) = [o for o in config["Origins"] if o["Id"] == "api"]
    default = config["DefaultCacheBehavior"]

    # Then the API's stage is an origin, over HTTPS only
    assert api["OriginPath"] == "/v1"
    assert api["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    # ... and everything not the page goes to it: never cached, every method, Authorization
    # forwarded (all viewer headers but Host)
    assert default["TargetOriginId"] == "api"
    assert default["CachePolicyId"] == CACHING_DISABLED
    assert default["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST
    assert set(default["AllowedMethods"]) == {
        "GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"
    }  # fmt: skip


def test_the_page_and_its_assets_come_from_the_bucket_with_the_local_policy() -> None:
    # Given the distribution's behaviours for the page
    config = _distribution()
    behaviours = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    policy = RESOURCES["DashboardHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]
    csp = policy["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]

    # Then / is the page, and the page and its assets are the bucket's
    assert config["DefaultRootObject"] == "index.html"
    assert {p: b["TargetOriginId"] for p, b in behaviours.items()} == {
        "/index.html": "dashboard",
        "/assets/*": "dashboard",
    }
    # ... sent with the Content-Security-Policy feedsync serve sends, the files bucket (where
    # uploads are PUT) and the region's Cognito (the sign-in forms) the other origins it may
    # connect to
    other_hosts = (
        "https://${Bucket}.s3.amazonaws.com",
        "https://${Bucket}.s3.${AWS::Region}.amazonaws.com",
        "https://cognito-idp.${AWS::Region}.amazonaws.com",
    )
    assert csp == {"Fn::Sub": content_security_policy(*other_hosts)}
    cors = RESOURCES["Bucket"]["Properties"]["CorsConfiguration"]["CorsRules"]
    assert {"GET", "PUT"} <= set(cors[0]["AllowedMethods"])
    for behaviour in behaviours.values():
        assert behaviour["ResponseHeadersPolicyId"] == {"Ref": "DashboardHeaders"}
    # ... the stack says where it is, and the local stack knows every new type
    assert "DashboardUrl" in TEMPLATE["Outputs"]
    assert unhandled_resources(RESOURCES) == []
