"""API: the REST API built from the route table (snowwatch.routes), its TOKEN authorizer and the
API function.

Per route: one method with a Lambda proxy integration; the authorizer on every route whose auth is
not ``public``; method request parameters for the Authorization header, every path parameter and
every query string the route lists. Caching (DESIGN §4), when the profile has a stage cache (`prod`; `lean` has none):

- the stage cache cluster is on and encrypted, but caching is off stage-wide (``/*/*``);
- clients may not invalidate cache entries: `requireAuthorizationForCacheControl` is pinned on with
  `FAIL_WITH_403` (CloudFormation cannot set it; a custom resource does, after every deployment);
- each cached route (GET with cache_ttl > 0) turns caching on for its method with its TTL;
  every other method has caching explicitly off, so writes are never cached;
- the cache key of a cached method is the Authorization header + every path parameter + every
  query string of the route (never the path alone: tenants would see each other's data).

The authorizer runs outside the VPC; its result cache is keyed on the token (identity source: the
Authorization header, which must look like `Bearer <jwt>`: anything else is refused with 401 before
the authorizer runs) for at most 60 s. Gateway responses (401, 403, other 4xx/5xx) answer the API's
JSON error envelope. CORS: only the context's `dashboard_origin`, when set (the CloudFront
dashboard is same-origin and needs none).
"""

from __future__ import annotations

from aws_cdk import Annotations, ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from infra.config import Config
from infra.constants import (
    API,
    API_STAGE,
    API_THROTTLE_BURST,
    API_THROTTLE_RATE,
    AUTHORIZER,
    AUTHORIZER_CACHE_TTL_S,
    AUTHORIZER_IDENTITY_REGEX,
    JOB_RUN_THROTTLE_BURST,
    JOB_RUN_THROTTLE_RATE,
)
from infra.constructs.acks import ack
from infra.constructs.database import Database
from infra.constructs.function import AppFunction, grant_secret_write, retention
from infra.constructs.jobs import Jobs
from infra.constructs.network import Network
from infra.constructs.packaging import Packaging
from infra.routes_table import ROUTES, Route

AUTH_HEADER = "method.request.header.Authorization"

# Gateway responses: (response type, status, error code, message expression).
GATEWAY_RESPONSES: tuple[tuple[str, apigw.ResponseType, str, str, str], ...] = (
    ("Unauthorized", apigw.ResponseType.UNAUTHORIZED, "401", "unauthorized", "$context.error.messageString"),
    ("AccessDenied", apigw.ResponseType.ACCESS_DENIED, "403", "forbidden", "$context.error.messageString"),
    # No route for this method and path (API Gateway's "Missing Authentication Token").
    ("MissingRoute", apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN, "404", "not_found", '"no such route"'),
    ("Throttled", apigw.ResponseType.THROTTLED, "429", "throttled", "$context.error.messageString"),
    ("Default4xx", apigw.ResponseType.DEFAULT_4_XX, "", "bad_request", "$context.error.messageString"),
    ("Default5xx", apigw.ResponseType.DEFAULT_5_XX, "", "internal_error", "$context.error.messageString"),
)


def cache_key_parameters(route: Route) -> list[str]:
    """What a cached response is keyed on: caller, path parameters, query strings."""
    return [
        AUTH_HEADER,
        *(f"method.request.path.{p}" for p in route.path_params),
        *(f"method.request.querystring.{q}" for q in route.cache_key_query),
    ]


def request_parameters(route: Route) -> dict[str, bool]:
    """Declared method request parameters (name -> required). Path parameters are always present;
    the Authorization header is left optional so that a missing token reaches the authorizer
    (401), not request validation (400)."""
    params: dict[str, bool] = {AUTH_HEADER: False}
    params |= {f"method.request.path.{p}": True for p in route.path_params}
    params |= {f"method.request.querystring.{q}": False for q in route.cache_key_query}
    return params


def method_options_key(route: Route) -> str:
    return f"{route.path}/{route.method}"


def envelope(code: str, message: str) -> str:
    """The API's error envelope as a mapping template ($context values are JSON-escaped strings)."""
    return '{"error":{"code":"%s","message":%s,"details":null}}' % (code, message)  # noqa: UP031


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: Config,
        network: Network,
        packaging: Packaging,
        database: Database,
        jobs: Jobs,
    ) -> None:
        super().__init__(scope, id)
        profile = config.profile

        self.handler = AppFunction(
            self,
            "Handler",
            spec=API,
            config=config,
            packaging=packaging,
            network=network,
            environment={
                **database.environment(API.family),
                "DISPATCH_MODE": "sqs",
                "JOB_QUEUES": Stack.of(self).to_json_string(jobs.queue_urls()),
            },
        )
        database.grant_connect(self.handler, API.family)
        # Manual runs (POST /api/jobs/{job}/run, POST .../security/extract): a message on the job's queue.
        jobs.grant_start(self.handler)
        # Credentials the API writes (never reads back): connectors' key pairs, budgets' Slack targets.
        grant_secret_write(self.handler, config)

        auth_env = {
            "JWT_ALGORITHM": "RS256",
            "JWKS_URL": config.jwks_url,
            "JWT_ORG_CLAIM": config.jwt_org_claim,
            "JWT_ROLE_CLAIM": config.jwt_role_claim,
            "JWT_EMAIL_CLAIM": config.jwt_email_claim,
        }
        if config.jwt_audience:
            auth_env["JWT_AUDIENCE"] = config.jwt_audience
        if config.jwt_issuer:
            auth_env["JWT_ISSUER"] = config.jwt_issuer
        for setting in config.missing_identity_settings():
            Annotations.of(self).add_warning_v2(
                f"snowwatch:{setting}", f"context {setting} is not set: fine for a synth, not for a deploy"
            )
        # Outside the VPC: it needs only the IdP's JWKS URL, and a NAT outage must not stop sign-in.
        self.authorizer_function = AppFunction(
            self,
            "AuthorizerFunction",
            spec=AUTHORIZER,
            config=config,
            packaging=packaging,
            network=None,
            environment=auth_env,
        )

        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=retention(config.log_retention_days),
            removal_policy=RemovalPolicy.RETAIN if profile.retain else RemovalPolicy.DESTROY,
        )

        cache_on = profile.stage_cache_gb is not None
        # A method-level setting replaces the stage's for that method, so each one restates the
        # stage's logging, metrics and throttling next to its own caching.
        method_options = {
            method_options_key(route): apigw.MethodDeploymentOptions(
                caching_enabled=cache_on and route.cached,
                cache_ttl=Duration.seconds(route.cache_ttl) if cache_on and route.cached else None,
                cache_data_encrypted=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                metrics_enabled=True,
                throttling_rate_limit=JOB_RUN_THROTTLE_RATE if route.name == "jobs_run" else API_THROTTLE_RATE,
                throttling_burst_limit=JOB_RUN_THROTTLE_BURST if route.name == "jobs_run" else API_THROTTLE_BURST,
            )
            for route in ROUTES
        }

        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=f"{config.stack_name}-api",
            description="snowwatch REST API (routes from snowwatch.routes)",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigw.StageOptions(
                stage_name=API_STAGE,
                cache_cluster_enabled=cache_on,
                cache_cluster_size=profile.stage_cache_gb,
                caching_enabled=False,
                cache_data_encrypted=True,
                throttling_rate_limit=API_THROTTLE_RATE,
                throttling_burst_limit=API_THROTTLE_BURST,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                metrics_enabled=True,
                tracing_enabled=True,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
                method_options=method_options,
            ),
            default_cors_preflight_options=apigw.CorsOptions(
                allow_origins=[config.dashboard_origin],
                allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type"],
                max_age=Duration.hours(1),
            )
            if config.dashboard_origin
            else None,
        )
        self.stage = self.rest_api.deployment_stage
        ack(
            self.stage,
            "AwsSolutions-APIG3",
            "No WAF web ACL by default (cost): stage and method throttling plus the JWT authorizer guard the "
            "API; attach a regional web ACL in production if the organisation's policy requires one.",
        )
        ack(
            self.rest_api,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonAPIGatewayPushToCloudWatchLogs]",
            "API Gateway's account-level logging role: this AWS managed policy is the one AWS documents for it.",
        )
        # Path parameters are required; API Gateway answers 400 before the function when one is missing.
        self.validator = self.rest_api.add_request_validator(
            "Validator", validate_request_parameters=True, validate_request_body=True
        )

        self.authorizer = apigw.TokenAuthorizer(
            self,
            "Authorizer",
            handler=self.authorizer_function.function,
            identity_source=apigw.IdentitySource.header("Authorization"),
            validation_regex=AUTHORIZER_IDENTITY_REGEX,
            results_cache_ttl=Duration.seconds(AUTHORIZER_CACHE_TTL_S),
        )

        # One API-scoped invoke permission for the API function (not one per method).
        self.methods: dict[str, apigw.Method] = {}
        for route in ROUTES:
            integration = apigw.LambdaIntegration(
                self.handler.function,
                proxy=True,
                scope_permission_to_method=False,
                cache_key_parameters=cache_key_parameters(route) if route.cached else None,
            )
            public = route.auth == "public"
            method = self.rest_api.root.resource_for_path(route.path).add_method(
                route.method,
                integration,
                authorizer=None if public else self.authorizer,  # (cache keys apply only with a cache)
                authorization_type=apigw.AuthorizationType.NONE if public else apigw.AuthorizationType.CUSTOM,
                request_parameters=request_parameters(route),
                request_validator=self.validator,
                operation_name=route.name,
            )
            if public:
                ack(method, "AwsSolutions-APIG4", f"{route.method} {route.path} is public by design (route table).")
                ack(method, "AwsSolutions-COG4", f"{route.method} {route.path} is public by design (route table).")
            else:
                ack(
                    method,
                    "AwsSolutions-COG4",
                    "Callers authenticate with the organisation's IdP (JWT verified against its JWKS by the TOKEN "
                    "authorizer); snowwatch does not run a Cognito user pool.",
                )
            self.methods[route.name] = method

        for method in self.rest_api.methods:
            if method.http_method == "OPTIONS":  # CORS preflight (mock integration, no caller data)
                ack(method, "AwsSolutions-APIG4", "CORS preflight requests carry no credentials by definition.")
                ack(method, "AwsSolutions-COG4", "CORS preflight requests carry no credentials by definition.")

        headers = {"Content-Type": "'application/json'"}
        if config.dashboard_origin:
            headers["Access-Control-Allow-Origin"] = f"'{config.dashboard_origin}'"
        for id_, response_type, status, code, message in GATEWAY_RESPONSES:
            self.rest_api.add_gateway_response(
                id_,
                type=response_type,
                status_code=status or None,
                response_headers=headers,
                templates={"application/json": envelope(code, message)},
            )
        if cache_on:
            self._pin_cache_control(config)

    def _pin_cache_control(self, config: Config) -> None:
        """Only callers allowed execute-api:InvalidateCache may bypass or flush a cache entry with a
        `Cache-Control: max-age=0` header, and the others get 403 (the API's default would serve
        them with a warning header). CloudFormation has no property for it; re-applied whenever the
        API is deployed again (the deployment id is the custom resource's physical id)."""
        stage = self.rest_api.deployment_stage
        deployment = self.rest_api.latest_deployment
        assert deployment is not None
        patches = [
            {"op": "replace", "path": f"/{path}/caching/requireAuthorizationForCacheControl", "value": "true"}
            for path in self._cached_method_paths()
        ] + [
            {
                "op": "replace",
                "path": f"/{path}/caching/unauthorizedCacheControlHeaderStrategy",
                "value": "FAIL_WITH_403",
            }
            for path in self._cached_method_paths()
        ]
        call = cr.AwsSdkCall(
            service="APIGateway",
            action="updateStage",
            parameters={
                "restApiId": self.rest_api.rest_api_id,
                "stageName": stage.stage_name,
                "patchOperations": patches,
            },
            physical_resource_id=cr.PhysicalResourceId.of(deployment.deployment_id),
        )
        self.cache_control = cr.AwsCustomResource(
            self,
            "PinCacheControl",
            on_create=call,
            on_update=call,
            install_latest_aws_sdk=False,
            log_group=logs.LogGroup(
                self,
                "PinCacheControlLogs",
                retention=retention(config.log_retention_days),
                removal_policy=RemovalPolicy.DESTROY,
            ),
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [
                    iam.PolicyStatement(
                        actions=["apigateway:PATCH"],
                        resources=[
                            Stack.of(self).format_arn(
                                service="apigateway",
                                account="",
                                resource="/restapis",
                                resource_name=f"{self.rest_api.rest_api_id}/stages/{stage.stage_name}",
                                arn_format=ArnFormat.SLASH_RESOURCE_NAME,
                            )
                        ],
                    )
                ]
            ),
        )
        self.cache_control.node.add_dependency(stage)

    @staticmethod
    def _cached_method_paths() -> list[str]:
        """`*/*` plus each cached method, as a stage patch path (`~1` escapes a `/` of the resource path)."""
        return ["*/*"] + [f"{route.path.replace('/', '~1')}/{route.method}" for route in ROUTES if route.cached]

    @property
    def url(self) -> str:
        return self.rest_api.url
