"""The HTTP API: routes generated from ``infra/routes.py``, guarded by a JWT authorizer."""

from __future__ import annotations

import json
from collections.abc import Mapping

import jsii
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import DeploymentSettings
from infra.constants import LOG_RETENTION, THROTTLE_BURST_LIMIT, THROTTLE_RATE_LIMIT
from infra.functions import MediaportFunction
from infra.nag import acknowledge
from infra.routes import ROUTES, Auth

# HTTP API access-log fields ($context variables of HTTP APIs, not REST APIs).
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "integrationLatency": "$context.integrationLatency",
    "integrationError": "$context.integrationErrorMessage",
    "authorizerError": "$context.authorizer.error",
}


@jsii.implements(apigwv2.IAccessLogSettings)
class JsonAccessLogs:
    """Stage access logs: one JSON line per request into ``log_group``."""

    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FORMAT))


class UserDirectory(Construct):
    """The default identity provider: a Cognito user pool and a public app client.

    With ``tier_trigger``, users get a ``custom:tier`` attribute (set by an administrator,
    never by the user's own client) that a pre-token-generation trigger copies into their
    access tokens; access-token customization needs the Essentials (or Plus) plan.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        removal_policy: RemovalPolicy,
        tier_trigger: bool = False,
    ):
        super().__init__(scope, construct_id)
        self.user_pool = cognito.UserPool(
            self,
            "Users",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            removal_policy=removal_policy,
            custom_attributes=(
                {"tier": cognito.StringAttribute(min_len=1, max_len=32, mutable=True)}
                if tier_trigger
                else None
            ),
            feature_plan=cognito.FeaturePlan.ESSENTIALS if tier_trigger else None,
        )
        self.client = self.user_pool.add_client(
            "WebClient",
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_password=True, user_srp=True),
            prevent_user_existence_errors=True,
            access_token_validity=Duration.hours(1),
            id_token_validity=Duration.hours(1),
            # A user must not choose their own tier: the client writes standard attributes only.
            write_attributes=(
                cognito.ClientAttributes().with_standard_attributes(
                    email=True, fullname=True, preferred_username=True
                )
                if tier_trigger
                else None
            ),
        )
        self.tier_trigger: MediaportFunction | None = None
        if tier_trigger:
            self.tier_trigger = MediaportFunction(self, "pre_token", layers=(), environment={})
            self.user_pool.add_trigger(
                cognito.UserPoolOperation.PRE_TOKEN_GENERATION_CONFIG,
                self.tier_trigger.function,
                cognito.LambdaVersion.V2_0,
            )
        acknowledge(
            self.user_pool,
            "AwsSolutions-COG2",
            "MFA is optional (TOTP) so the scripted walk-through can sign in with a password; "
            "set mfa=REQUIRED for production users.",
        )
        acknowledge(
            self.user_pool,
            "AwsSolutions-COG3",
            "Threat protection (advanced security) needs the paid Cognito Plus plan; the "
            "pool only admits users an administrator creates (no self sign-up).",
        )
        acknowledge(
            self.user_pool,
            "AwsSolutions-COG8",
            "The Plus feature plan is billed per monthly active user; Essentials covers "
            "password sign-in and JWTs, which is all the API needs.",
        )

    @property
    def issuer(self) -> str:
        """``https://cognito-idp.{region}.amazonaws.com/{poolId}``."""
        return self.user_pool.user_pool_provider_url

    @property
    def audience(self) -> list[str]:
        return [self.client.user_pool_client_id]


class HttpApi(Construct):
    """One route per row of the route table; every route that needs a token gets the JWT
    authorizer (admin routes too: the authorizer cannot check groups, the function does)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handlers: Mapping[str, lambda_.IFunction],
        settings: DeploymentSettings,
    ) -> None:
        super().__init__(scope, construct_id)
        self.users: UserDirectory | None = None
        if settings.jwt_issuer is not None:
            issuer, audience = settings.jwt_issuer, list(settings.jwt_audience)
        else:
            self.users = UserDirectory(
                self,
                "Cognito",
                removal_policy=settings.removal_policy,
                tier_trigger=settings.tier_trigger,
            )
            issuer, audience = self.users.issuer, self.users.audience
        self.authorizer = authorizers.HttpJwtAuthorizer(
            "JwtAuthorizer", issuer, jwt_audience=audience
        )

        self.api = apigwv2.HttpApi(
            self,
            "Api",
            description="Mediaport media upload API",
            create_default_stage=False,
            cors_preflight=apigwv2.CorsPreflightOptions(
                allow_origins=list(settings.allowed_origins),
                allow_methods=[
                    apigwv2.CorsHttpMethod.GET,
                    apigwv2.CorsHttpMethod.POST,
                    apigwv2.CorsHttpMethod.PUT,
                    apigwv2.CorsHttpMethod.PATCH,
                    apigwv2.CorsHttpMethod.DELETE,
                    apigwv2.CorsHttpMethod.OPTIONS,
                ],
                allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-Match"],
                # A client waits as long as a 429 or 503 asks before retrying; it edits
                # with the ETag it read (If-Match); a created resource is at Location.
                expose_headers=["Retry-After", "ETag", "Location"],
                max_age=Duration.hours(1),
            ),
        )
        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY
        )
        self.stage = apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=THROTTLE_RATE_LIMIT, burst_limit=THROTTLE_BURST_LIMIT
            ),
            access_log_settings=JsonAccessLogs(self.access_logs),
        )

        integrations_by_function = {
            name: integrations.HttpLambdaIntegration(f"{name}-integration", handler)
            for name, handler in handlers.items()
        }
        for route in ROUTES:
            (http_route,) = self.api.add_routes(
                path=route.path,
                methods=[apigwv2.HttpMethod(route.method)],
                integration=integrations_by_function[route.function],
                authorizer=(
                    self.authorizer if route.auth.needs_token else apigwv2.HttpNoneAuthorizer()
                ),
            )
            if not route.auth.needs_token:
                acknowledge(
                    http_route,
                    "AwsSolutions-APIG4",
                    f"{route.route_key} has no JWT authorizer by design: "
                    + _WHY_NO_AUTHORIZER[route.auth],
                )

    @property
    def url(self) -> str:
        url = self.stage.url
        assert url is not None
        return url


_WHY_NO_AUTHORIZER = {
    Auth.PUBLIC: "a liveness check that reads no data (the route table marks it Auth.PUBLIC).",
    Auth.SESSION: "Uppy sends no custom headers, so the route carries an upload session's "
    "capability token in its path, which the function checks (Auth.SESSION).",
}
