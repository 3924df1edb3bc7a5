"""GET /health: the API is up (no auth, no AWS calls)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from mediaport.api.resolver import build_resolver
from mediaport.observability import logger

app = build_resolver()


class Health(BaseModel):
    status: str = "ok"


@app.get("/health", summary="Is the API up?", tags=["health"])
def health() -> Health:
    return Health()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
