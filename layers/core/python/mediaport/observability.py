"""Logger, Tracer and Metrics: one of each per process, shared by every function."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer

# A read that counts nothing is normal here; Powertools would warn on every such call.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)


class InvocationLogger(Logger):
    """A Powertools Logger whose appended keys belong to the invocation that appends them.

    ``inject_lambda_context`` and ``set_correlation_id`` append keys through
    ``append_keys``, which Powertools keeps on the one formatter every thread shares. On
    Lambda one process runs one invocation at a time, so that is the same thing; the local
    stack runs every function in one process, the gateway and the workers on threads of
    their own, and one function's ``function_name`` ended up on another's lines. Here
    they go to Powertools' thread-safe keys (a ``contextvars`` variable) instead; the
    constructor's keys (``service``…) stay shared, as they are the same for every function.
    """

    def append_keys(self, **additional_keys: object) -> None:
        self.thread_safe_append_keys(**additional_keys)

    def get_current_keys(self) -> dict[str, Any]:
        return {**super().get_current_keys(), **self.thread_safe_get_current_keys()}

    def remove_keys(self, keys: Iterable[str]) -> None:
        removed = set(keys)
        super().remove_keys(removed)
        # Not ``thread_safe_remove_keys``: it edits the context's dict in place, which a
        # copied context (a thread pool's, say) still shares with the one it came from.
        kept = {k: v for k, v in self.thread_safe_get_current_keys().items() if k not in removed}
        self.thread_safe_clear_keys()
        self.thread_safe_append_keys(**kept)

    def get_correlation_id(self) -> str | None:
        value = self.thread_safe_get_current_keys().get("correlation_id")
        return str(value) if value is not None else None


# These read their settings (POWERTOOLS_*) from the environment; none touches AWS.
logger = InvocationLogger(service="mediaport")
tracer = Tracer(service="mediaport")
metrics = Metrics(namespace="Mediaport", service="mediaport")
