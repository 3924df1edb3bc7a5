"""The dependency layer build: the right requirements, no boto, cached by hash."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def build() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_dependencies", ROOT / "layers" / "build_dependencies.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_layer_installs_every_runtime_requirement_but_boto(
    build: ModuleType, tmp_path: Path
) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(
        "# c\nboto3==1.0\npillow==1.0  # images\nBotocore==1\npynamodb==6.1.0\n"
    )
    assert build.layer_requirements(requirements) == ["pillow==1.0", "pynamodb==6.1.0"]


def test_runtime_provided_packages_are_dropped_after_install(
    build: ModuleType, tmp_path: Path
) -> None:
    for name in (
        "boto3",
        "botocore",
        "s3transfer",
        "boto3-1.0.dist-info",
        "s3transfer-0.1.dist-info",
        "pydantic",
        "pydantic-2.0.dist-info",
        "bin",
    ):
        (tmp_path / name).mkdir()
    build.drop_runtime_packages(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pydantic", "pydantic-2.0.dist-info"]


def test_the_cache_key_follows_the_requirements(build: ModuleType, tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("pillow==1.0\n")
    first = build.requirements_digest(requirements)
    requirements.write_text("pillow==2.0\n")
    assert build.requirements_digest(requirements) != first


def test_the_built_layer_has_no_boto_and_fits_lambdas_limit(build: ModuleType) -> None:
    layer = build.build_dependencies_layer()
    site = layer / "python"
    assert (site / "pydantic_core").is_dir()
    assert (site / "PIL").is_dir()
    assert (site / "pyvips").is_dir()  # built here from its source distribution
    assert list(site.glob("_libvips*.so"))
    for name in ("boto3", "botocore", "s3transfer"):
        assert not (site / name).exists()
    # Only aarch64 binaries: an x86_64 extension would fail to import on Lambda arm64.
    assert not list(site.rglob("*x86_64*.so"))
    assert build.unzipped_size(layer) < build.LAYER_LIMIT_BYTES
