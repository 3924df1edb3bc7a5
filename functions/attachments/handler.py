"""Attachments and avatars: which of the caller's media is attached to which host-app
thing, and what an entity (or a user's avatar) shows (``mediaport.attachments`` has the
use cases, docs/attachments.md the rules)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from mediaport import attachments
from mediaport.api.resolver import (
    BEARER_AUTH,
    build_resolver,
    caller_id,
    described_problem,
    problem_responses,
)
from mediaport.api.schemas import (
    AttachmentView,
    AttachRequest,
    AvatarRequest,
    AvatarView,
    EntityMediaView,
)
from mediaport.api.views import attached_media_view, attachment_view, avatar_view
from mediaport.keys import ASSET_ID_PATTERN
from mediaport.model.attachments import ENTITY_ID_PATTERN, ENTITY_TYPE_PATTERN
from mediaport.observability import logger, metrics, tracer
from mediaport.services import current_services

app = build_resolver()

AssetId = Annotated[str, Path(description="The assetId (a UUID).", pattern=ASSET_ID_PATTERN)]
EntityType = Annotated[
    str,
    Path(
        description="The kind of host-app thing: `post`, `avatar`, `vehicle`, or one "
        "configured for this deployment (an unknown one is 404).",
        pattern=ENTITY_TYPE_PATTERN,
        examples=["post"],
    ),
]
EntityId = Annotated[
    str,
    Path(
        description="The host app's id of the thing (for `avatar`: the user's id): 1-128 "
        "letters, digits or `._:@-`.",
        pattern=ENTITY_ID_PATTERN,
        examples=["123"],
    ),
]
UserId = Annotated[
    str, Path(description="The user's id (their token's `sub`).", pattern=ENTITY_ID_PATTERN)
]


_ATTACH_PROBLEMS = {
    **problem_responses(400, 401, 503),
    **described_problem(
        403,
        "Not yours: the asset is another user's (`forbidden`), another user claimed the "
        "entity (`entity-claimed`), or an avatar of someone else (`not-own-entity`).",
    ),
    **described_problem(404, "No such asset, or no such entity type (`entity-type-not-found`)."),
    **described_problem(
        409, "The asset is not READY, or kept changing meanwhile (`edit-conflict`)."
    ),
    **described_problem(
        422,
        "The entity type does not take the asset's scope (`scope-not-allowed`), the entity "
        "is full (`entity-full`), or the asset is attached to as many things as one may be "
        "(`attachment-limit`).",
    ),
}


@app.put(
    "/media/<id>/attachments/<entityType>/<entityId>",
    status_code=201,
    summary="Attach an asset to a host-app thing",
    description="Attaches the caller's READY asset to an entity of the host app (a post, "
    "a vehicle, the caller's avatar), as its type allows: the scopes it takes and how many "
    "it holds. The asset's `usageCount` and `lastUsedAt` change in the same transaction. "
    "The first user to attach to an entity claims it: nobody else may attach to it or "
    "detach from it. 201 when attached; 200 when it was already (a `role` given then "
    "replaces its role).",
    tags=["attachments"],
    security=BEARER_AUTH,
    responses={
        200: {
            "description": "It was attached already.",
            "content": {"application/json": {"model": AttachmentView}},
        },
        201: {"description": "Attached."},
        **_ATTACH_PROBLEMS,
    },
)
@tracer.capture_method
def attach(
    id: AssetId,
    entityType: EntityType,
    entityId: EntityId,
    body: Annotated[AttachRequest | None, Body()] = None,
) -> Response[AttachmentView]:
    role = body.role if body is not None else None
    done = attachments.attach(current_services(), caller_id(app), id, entityType, entityId, role)
    status = 201 if done.created else 200
    return Response(status, "application/json", body=attachment_view(done.attachment))


@app.delete(
    "/media/<id>/attachments/<entityType>/<entityId>",
    status_code=204,
    summary="Detach an asset from a host-app thing",
    description="The attachment goes, and the asset's `usageCount` and the entity's count "
    "drop, in one transaction. 404 when the asset is not attached there.",
    tags=["attachments"],
    security=BEARER_AUTH,
    responses={
        204: {"description": "Detached."},
        **problem_responses(400, 401, 503),
        **described_problem(
            403,
            "Not yours: the asset is another user's, another user claimed the entity, or "
            "an avatar of someone else.",
        ),
        **described_problem(
            404,
            "The asset is not attached there (`attachment-not-found`), or no such entity type.",
        ),
        **described_problem(409, "The asset kept changing meanwhile; retry."),
    },
)
@tracer.capture_method
def detach(id: AssetId, entityType: EntityType, entityId: EntityId) -> Response[None]:
    attachments.detach(current_services(), caller_id(app), id, entityType, entityId)
    return Response(204, body=None)


@app.get(
    "/attachments/<entityType>/<entityId>",
    summary="The media of a host-app thing",
    description="What the host app's feed needs to render an entity: each attached READY "
    "asset with short-lived URLs of its original and variants, its type, alt text, size, "
    "placeholder and dominant colour; oldest attachment first. Any signed-in user may read "
    "it; it shows nothing of the owner's own (original filename, folder, tags). An entity "
    "nothing was attached to has no items.",
    tags=["attachments"],
    security=BEARER_AUTH,
    responses={
        200: {"description": "The entity's media."},
        **problem_responses(400, 401, 503),
        **described_problem(404, "No such entity type (`entity-type-not-found`)."),
    },
)
@tracer.capture_method
def entity_media(entityType: EntityType, entityId: EntityId) -> EntityMediaView:
    services = current_services()
    found = attachments.entity_media(services, entityType, entityId)
    return EntityMediaView(
        entity_type=entityType,
        entity_id=entityId,
        items=[attached_media_view(a, asset, services.settings) for a, asset in found],
    )


@app.put(
    "/me/avatar",
    summary="Set or clear my avatar",
    description="`assetId`: a READY asset of the caller's, uploaded in scope "
    "PROFILE_AVATAR, becomes their avatar (200); the one it replaces is released in the "
    "same transaction (its `usageCount` − 1). The avatar already: 200, nothing changes. "
    "`null`: no avatar (204, also when there was none).",
    tags=["attachments"],
    security=BEARER_AUTH,
    responses={
        200: {
            "description": "The avatar.",
            "content": {"application/json": {"model": AvatarView}},
        },
        204: {"description": "No avatar."},
        **problem_responses(400, 401, 503),
        **described_problem(403, "The asset is another user's."),
        **described_problem(404, "No such asset."),
        **described_problem(
            409, "The asset is not READY, or the avatar kept changing (`edit-conflict`)."
        ),
        **described_problem(
            422,
            "The asset was not uploaded in scope PROFILE_AVATAR (`scope-not-allowed`), or is "
            "attached to as many things as one may be (`attachment-limit`).",
        ),
    },
)
@tracer.capture_method
def set_avatar(body: AvatarRequest) -> Response[AvatarView | None]:
    services, user = current_services(), caller_id(app)
    if body.asset_id is None:
        attachments.clear_avatar(services, user)
        return Response(204, body=None)
    asset = attachments.set_avatar(services, user, body.asset_id)
    return Response(200, "application/json", body=avatar_view(asset, services.settings))


@app.get(
    "/users/<userId>/avatar",
    summary="A user's avatar",
    description="Short-lived URLs of a user's avatar and its variants. Any signed-in user "
    "may read it.",
    tags=["attachments"],
    security=BEARER_AUTH,
    responses={
        200: {"description": "The avatar."},
        **problem_responses(400, 401, 503),
        **described_problem(404, "The user has no avatar (`avatar-not-found`)."),
    },
)
@tracer.capture_method
def user_avatar(userId: UserId) -> AvatarView:
    services = current_services()
    return avatar_view(attachments.avatar_of(services, userId), services.settings)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
