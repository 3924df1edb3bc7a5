"""Logger, Tracer and Metrics: one of each per process, shared by every function."""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Generator, Iterable, Sequence
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

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


class DeferredXRay(BaseProvider):
    """The X-Ray recorder, imported, configured and patched into the libraries on first use.

    Powertools' Tracer imports the X-Ray SDK and patches every library it knows (botocore,
    pynamodb, requests…) when it is built, which put the SDK and botocore's client on every
    function's cold start, before the first request and whether or not that request made
    an AWS call. The first traced call (the handler's own subsegment) does it here instead,
    with the same settings Powertools uses: subsegments streamed one by one
    (``streaming_threshold=0``) and ``patch_all``. Clients are made lazily, inside the
    handler, so every AWS call is still patched and traced.
    """

    def __init__(self) -> None:
        self._recorder: Any = None
        self._lock = threading.Lock()

    @property
    def recorder(self) -> Any:
        """``aws_xray_sdk.core.xray_recorder``, ready to trace."""
        if self._recorder is None:
            with self._lock:
                if self._recorder is None:
                    from aws_xray_sdk.core import patch_all, xray_recorder

                    xray_recorder.configure(streaming_threshold=0)
                    patch_all()
                    self._recorder = xray_recorder
        return self._recorder

    @contextlib.contextmanager
    def in_subsegment(self, name: Any = None, **kwargs: Any) -> Generator[BaseSegment, None, None]:
        with self.recorder.in_subsegment(name=name, **kwargs) as subsegment:
            yield subsegment

    def in_subsegment_async(self, name: Any = None, **kwargs: Any) -> Any:
        return self.recorder.in_subsegment_async(name=name, **kwargs)

    def put_annotation(self, key: str, value: Any) -> None:
        self.recorder.put_annotation(key=key, value=value)

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self.recorder.put_metadata(key=key, value=value, namespace=namespace)

    def patch(self, modules: Sequence[str]) -> None:
        from aws_xray_sdk.core import patch

        self.recorder  # noqa: B018 (configured, and everything patched, first)
        patch(modules)

    def patch_all(self) -> None:
        self.recorder  # noqa: B018 (patching everything is what building it does)


class NoTracing(BaseProvider):
    """Tracing is off (locally, in tests, or POWERTOOLS_TRACE_DISABLED): the X-Ray
    recorder is never loaded.

    Powertools' disabled Tracer still imported ``aws_xray_sdk.core`` and handed every
    subsegment to it (which then dropped it); this provider is never asked for one that
    is kept. (Building a disabled Tracer still imports the SDK's small ``sdk_config``, to
    switch the SDK off for the process.)
    """

    @contextlib.contextmanager
    def in_subsegment(self, name: Any = None, **kwargs: Any) -> Generator[BaseSegment, None, None]:
        yield _DROPPED

    @contextlib.asynccontextmanager
    async def _subsegment(self) -> Any:
        yield _DROPPED

    def in_subsegment_async(self, name: Any = None, **kwargs: Any) -> Any:
        return self._subsegment()

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def patch(self, modules: Sequence[str]) -> None:
        pass

    def patch_all(self) -> None:
        pass


class _DroppedSegment(BaseSegment):
    """What a subsegment is while tracing is off: everything put on it is dropped."""

    def close(self, end_time: int | None = None) -> None:
        pass

    def add_subsegment(self, subsegment: Any) -> None:
        pass

    def remove_subsegment(self, subsegment: Any) -> None:
        pass

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        pass


_DROPPED = _DroppedSegment()


def build_tracer() -> Tracer:
    """The Powertools Tracer, with X-Ray only when tracing is on.

    On: Lambda with active tracing (the stack's default) and POWERTOOLS_TRACE_DISABLED
    unset, as Powertools decides it; the SDK is loaded at the first traced call.
    """
    if Tracer._is_tracer_disabled():
        return Tracer(service="mediaport", disabled=True, provider=NoTracing(), auto_patch=False)
    return Tracer(service="mediaport", provider=DeferredXRay(), auto_patch=False)


# These read their settings (POWERTOOLS_*) from the environment; none touches AWS.
logger = InvocationLogger(service="mediaport")
tracer = build_tracer()
metrics = Metrics(namespace="Mediaport", service="mediaport")
