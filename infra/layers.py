"""The two Lambda layers: third-party dependencies (built without Docker) and ``mediaport``."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from aws_cdk import RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.functions import ARCHITECTURE, RUNTIME

ROOT = Path(__file__).resolve().parents[1]
CORE_LAYER_DIR = ROOT / "layers" / "core"
BUILD_SCRIPT = ROOT / "layers" / "build_dependencies.py"
ASSET_EXCLUDES = ["**/__pycache__", "**/*.pyc"]


def dependencies_layer_dir() -> Path:
    """The built dependency layer; builds it (pip, PyPI only) when it is missing or stale."""
    spec = importlib.util.spec_from_file_location("build_dependencies", BUILD_SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return Path(module.build_dependencies_layer())


class Layers(Construct):
    """The layers every function shares, dependencies first."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        compatible = {
            "compatible_runtimes": [RUNTIME],
            "compatible_architectures": [ARCHITECTURE],
            "removal_policy": RemovalPolicy.RETAIN,
        }
        self.dependencies = lambda_.LayerVersion(
            self,
            "Dependencies",
            code=lambda_.Code.from_asset(str(dependencies_layer_dir()), exclude=ASSET_EXCLUDES),
            description="Mediaport third-party packages (Powertools, pydantic, pynamodb, Pillow)",
            **compatible,  # type: ignore[arg-type]
        )
        self.core = lambda_.LayerVersion(
            self,
            "Core",
            code=lambda_.Code.from_asset(str(CORE_LAYER_DIR), exclude=ASSET_EXCLUDES),
            description="Mediaport domain package (mediaport)",
            **compatible,  # type: ignore[arg-type]
        )

    @property
    def all(self) -> list[lambda_.ILayerVersion]:
        return [self.dependencies, self.core]
