"""Load a function's handler the way Lambda would: by file, as module ``handler``."""

from __future__ import annotations

import functools
import importlib.util
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from mediaport.observability import logger

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"

Handler = Callable[[dict[str, Any], Any], Any]


@functools.cache
def load_module(function: str) -> ModuleType:
    """``functions/<function>/handler.py`` as a module (each under its own name)."""
    path = FUNCTIONS_DIR / function / "handler.py"
    spec = importlib.util.spec_from_file_location(f"mediaport_functions.{function}", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def load_handler(function: str) -> Handler:
    handler: Handler = load_module(function).handler
    return handler


@dataclass
class LocalLambdaContext:
    """The context object Lambda passes to a handler, with the fields Powertools reads."""

    function_name: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    # How long the invocation may run, counted from when the context is made (as Lambda's
    # deadline is counted from the start of the invocation).
    timeout_ms: int = 30_000
    _started: float = field(default_factory=time.monotonic, repr=False)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        elapsed_ms = int((time.monotonic() - self._started) * 1000)
        return max(0, self.timeout_ms - elapsed_ms)


@functools.cache
def _instance_lock(function: str) -> threading.Lock:
    return threading.Lock()


def local_context(function: str, **options: Any) -> LocalLambdaContext:
    """The context an invocation of ``function`` gets (``options``: e.g. ``timeout_ms``)."""
    return LocalLambdaContext(function_name=f"mediaport-{function}", **options)


def invoke(function: str, event: dict[str, Any], context: LocalLambdaContext | None = None) -> Any:
    """Call a function's handler with an event, as Lambda would: one event at a time per
    instance (Powertools resolvers keep the current event on the module's ``app``).

    Every function shares this process (and ``mediaport.observability.logger``), and the
    gateway and the workers call them from threads of their own. The logger keeps the keys
    an invocation appends (the Lambda context, the correlation id) per thread, so another
    thread's invocation never sees them; each invocation starts by dropping those an
    earlier one left on this thread, as a new Lambda invocation would not carry them.
    """
    handler = load_handler(function)
    with _instance_lock(function):
        logger.thread_safe_clear_keys()
        return handler(event, context or local_context(function))
