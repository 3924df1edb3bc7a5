"""The HTTP API: routes from the route table, JWT everywhere but /health, throttling, CORS."""

from __future__ import annotations

from aws_cdk.assertions import Match

from infra.constants import DEFAULT_ALLOWED_ORIGINS
from infra.routes import ROUTES
from tests.infra.conftest import Synth


def routes_by_key(synth: Synth) -> dict[str, dict]:
    return {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in synth.resources_of_type("AWS::ApiGatewayV2::Route").values()
    }


def test_the_api_serves_exactly_the_routes_of_the_route_table(synth: Synth) -> None:
    assert set(routes_by_key(synth)) == {route.route_key for route in ROUTES}


def test_every_authenticated_route_has_the_jwt_authorizer(synth: Synth) -> None:
    (authorizer_id,) = synth.resources_of_type("AWS::ApiGatewayV2::Authorizer")
    routes = routes_by_key(synth)
    for route in (r for r in ROUTES if r.auth.needs_token):
        assert routes[route.route_key]["AuthorizationType"] == "JWT", route.route_key
        assert routes[route.route_key]["AuthorizerId"] == {"Ref": authorizer_id}


def test_health_answers_without_a_token(synth: Synth) -> None:
    health = routes_by_key(synth)["GET /health"]
    assert health["AuthorizationType"] == "NONE"
    assert "AuthorizerId" not in health


def test_each_route_reaches_the_function_the_route_table_names(synth: Synth) -> None:
    integrations = synth.resources_of_type("AWS::ApiGatewayV2::Integration")
    functions = synth.resources_of_type("AWS::Lambda::Function")
    for route in ROUTES:
        target = routes_by_key(synth)[route.route_key]["Target"]["Fn::Join"][1][1]["Ref"]
        uri = integrations[target]["Properties"]["IntegrationUri"]["Fn::GetAtt"][0]
        assert functions[uri]["Properties"]["Description"] == f"Mediaport {route.function}"


def test_by_default_the_stack_makes_a_cognito_pool_that_issues_the_tokens(synth: Synth) -> None:
    (pool_id,) = synth.resources_of_type("AWS::Cognito::UserPool")
    (client_id,) = synth.resources_of_type("AWS::Cognito::UserPoolClient")
    synth.template.has_resource_properties(
        "AWS::ApiGatewayV2::Authorizer",
        {
            "AuthorizerType": "JWT",
            "IdentitySource": ["$request.header.Authorization"],
            "JwtConfiguration": {
                "Issuer": {"Fn::GetAtt": [pool_id, "ProviderURL"]},
                "Audience": [{"Ref": client_id}],
            },
        },
    )
    synth.template.has_resource_properties(
        "AWS::Cognito::UserPoolClient",
        {"ExplicitAuthFlows": Match.array_with(["ALLOW_USER_PASSWORD_AUTH"])},
    )
    outputs = synth.template.to_json()["Outputs"]
    assert {"ApiUrl", "BucketName", "TableName", "UserPoolId", "UserPoolClientId"} <= set(outputs)


def test_an_external_issuer_replaces_the_user_pool(external_idp_synth: Synth) -> None:
    assert external_idp_synth.resources_of_type("AWS::Cognito::UserPool") == {}
    external_idp_synth.template.has_resource_properties(
        "AWS::ApiGatewayV2::Authorizer",
        {
            "JwtConfiguration": {
                "Issuer": "https://issuer.example.com/",
                "Audience": ["mediaport-web", "mediaport-mobile"],
            }
        },
    )
    outputs = external_idp_synth.template.to_json()["Outputs"]
    assert "UserPoolId" not in outputs
    assert "UserPoolClientId" not in outputs


def test_the_default_stage_is_throttled_and_access_logged(synth: Synth) -> None:
    synth.template.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {
            "StageName": "$default",
            "AutoDeploy": True,
            "DefaultRouteSettings": {"ThrottlingRateLimit": 50, "ThrottlingBurstLimit": 100},
            "AccessLogSettings": {"DestinationArn": Match.any_value(), "Format": Match.any_value()},
        },
    )


def test_api_cors_allows_the_same_origins_as_the_bucket(synth: Synth) -> None:
    synth.template.has_resource_properties(
        "AWS::ApiGatewayV2::Api",
        {
            "CorsConfiguration": {
                "AllowOrigins": list(DEFAULT_ALLOWED_ORIGINS),
                "AllowMethods": ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
                "AllowHeaders": ["Authorization", "Content-Type", "Idempotency-Key", "If-Match"],
                "ExposeHeaders": ["Retry-After", "ETag", "Location"],
                "MaxAge": Match.any_value(),
            }
        },
    )
