"""Dashboard: the web front end in a private S3 bucket behind CloudFront, with the API as a second
origin for /api/* and /health (one origin for the browser: no CORS needed in production).

The web build (web/dist) belongs to the front end; `make deploy` (and `make synth`) build it first.
A synth without it (the infrastructure tests) deploys a placeholder page and warns. CloudFront never
caches API responses: the API Gateway stage cache does that, keyed on the Authorization header. The
CloudFront cache policy for the API still puts the Authorization header and every query string into
its key (with a 1-second maximum TTL), because CloudFront forwards the Authorization header to an
origin only when it is part of the cache key.
"""

from __future__ import annotations

from aws_cdk import Annotations, Duration, RemovalPolicy
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from infra.config import Config
from infra.constants import WEB_DIST_DIR
from infra.constructs.acks import ack
from infra.constructs.api import Api
from infra.constructs.function import retention

SPA_REWRITE = """function handler(event) {
  var request = event.request;
  var last = request.uri.split('/').pop();
  if (last.indexOf('.') === -1) { request.uri = '/index.html'; }
  return request;
}
"""

PLACEHOLDER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>snowwatch</title></head>
<body><h1>snowwatch</h1><p>The dashboard has not been built yet (web/dist). The API is at /api/.</p></body>
</html>
"""


class Dashboard(Construct):
    def __init__(self, scope: Construct, id: str, *, config: Config, api: Api) -> None:
        super().__init__(scope, id)
        removal = RemovalPolicy.RETAIN if config.profile.retain else RemovalPolicy.DESTROY

        self.logs_bucket = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            # CloudFront standard logs are delivered with ACLs.
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(90))],
            removal_policy=removal,
            auto_delete_objects=not config.profile.retain,
        )
        ack(self.logs_bucket, "AwsSolutions-S1", "This bucket is the access-log destination itself.")

        self.bucket = s3.Bucket(
            self,
            "Site",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            server_access_logs_bucket=self.logs_bucket,
            server_access_logs_prefix="s3/",
            removal_policy=removal,
            auto_delete_objects=not config.profile.retain,
        )

        api_cache = cloudfront.CachePolicy(
            self,
            "ApiCachePolicy",
            comment="snowwatch API: not cached by CloudFront; forwards Authorization and query strings",
            min_ttl=Duration.seconds(0),
            default_ttl=Duration.seconds(0),
            max_ttl=Duration.seconds(1),
            header_behavior=cloudfront.CacheHeaderBehavior.allow_list("Authorization"),
            query_string_behavior=cloudfront.CacheQueryStringBehavior.all(),
            cookie_behavior=cloudfront.CacheCookieBehavior.none(),
            enable_accept_encoding_gzip=True,
            enable_accept_encoding_brotli=True,
        )
        # A single-page app: a path without a file extension serves index.html. (Not a distribution
        # error response: those would also rewrite the API's own 403/404.)
        spa_rewrite = cloudfront.Function(
            self,
            "SpaRewrite",
            runtime=cloudfront.FunctionRuntime.JS_2_0,
            comment="dashboard routes -> /index.html",
            code=cloudfront.FunctionCode.from_inline(SPA_REWRITE),
        )
        api_origin = origins.RestApiOrigin(api.rest_api)
        api_behavior = cloudfront.BehaviorOptions(
            origin=api_origin,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            cache_policy=api_cache,
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"{config.stack_name} dashboard and API",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
                function_associations=[
                    cloudfront.FunctionAssociation(
                        function=spa_rewrite, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                    )
                ],
            ),
            additional_behaviors={"/api/*": api_behavior, "/health": api_behavior},
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            enable_logging=True,
            log_bucket=self.logs_bucket,
            log_file_prefix="cloudfront/",
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
        )
        ack(
            self.distribution,
            "AwsSolutions-CFR4",
            "Without a custom domain the distribution uses the default *.cloudfront.net certificate, for "
            "which CloudFront fixes the minimum protocol at TLSv1; with a custom domain and certificate, "
            "TLSv1.2_2021 (set here) applies.",
        )
        ack(
            self.distribution,
            "AwsSolutions-CFR1",
            "No geo restriction: the dashboard serves an organisation's users wherever they are.",
        )
        ack(
            self.distribution,
            "AwsSolutions-CFR2",
            "No WAF web ACL by default (cost); API Gateway throttling and the JWT authorizer guard the API. "
            "Attach a web ACL in production if the organisation's policy requires one.",
        )

        built = (WEB_DIST_DIR / "index.html").is_file()
        if not built:
            Annotations.of(self).add_warning_v2(
                "snowwatch:web-not-built", "web/dist is missing: a placeholder page is deployed (run `make deploy`)"
            )
        sources = (
            [s3deploy.Source.asset(str(WEB_DIST_DIR))] if built else [s3deploy.Source.data("index.html", PLACEHOLDER)]
        )
        self.deployment = s3deploy.BucketDeployment(
            self,
            "Deploy",
            sources=sources,
            destination_bucket=self.bucket,
            distribution=self.distribution,
            distribution_paths=["/*"],
            memory_limit=256,
            log_group=logs.LogGroup(
                self,
                "DeployLogs",
                retention=retention(config.log_retention_days),
                removal_policy=RemovalPolicy.DESTROY,
            ),
        )

    @property
    def url(self) -> str:
        return f"https://{self.distribution.distribution_domain_name}"
