"""Build the third-party Lambda layer without Docker, and report both layers' sizes.

pip downloads the manylinux aarch64 wheels for CPython 3.13 (the functions' runtime
and architecture) into ``.build/layers/dependencies/python``. A pure-Python project
published only as a source distribution (pyvips) is first built here into a
``py3-none-any`` wheel, which fits every platform. boto3, botocore and
s3transfer are dropped afterwards: the Lambda runtime provides them, and shipping a
second copy would only grow the layer. The build is skipped while the SHA-256 of
``requirements.txt`` (and of the pip arguments) matches the stamp of the last build.

Usage: ``python layers/build_dependencies.py [--force]``
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "requirements.txt"
CORE_LAYER = ROOT / "layers" / "core"
DEPENDENCIES_LAYER = ROOT / ".build" / "layers" / "dependencies"
STAMP = ROOT / ".build" / "layers" / "dependencies.sha256"

# Lambda's python3.13 runtime ships these; the layer must not shadow them.
PROVIDED_BY_RUNTIME = ("boto3", "botocore", "s3transfer")
# Pure Python, but on PyPI as a source distribution only (its native half, libvips, is
# the pyvips-binary wheel): built locally, and refused unless the wheel is pure.
SOURCE_ONLY = ("pyvips",)
# What the whole layer may weigh unzipped: Lambda allows 250 MB for a function and all
# its layers; this one is held well under it.
LAYER_LIMIT_BYTES = 100_000_000

PIP_TARGET_ARGS = (
    "--platform",
    "manylinux2014_aarch64",
    "--platform",
    "manylinux_2_28_aarch64",
    "--implementation",
    "cp",
    "--python-version",
    "3.13",
    "--only-binary=:all:",
    "--no-compile",
)

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def normalize(name: str) -> str:
    """PEP 503 name normalization: ``Foo_Bar`` and ``foo-bar`` are the same project."""
    return re.sub(r"[-_.]+", "-", name).lower()


def layer_requirements(requirements: Path = REQUIREMENTS) -> list[str]:
    """The requirement lines to install: every pinned line except the runtime's own."""
    lines = []
    for raw in requirements.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        match = _NAME.match(line)
        if not match or normalize(match.group(1)) in PROVIDED_BY_RUNTIME:
            continue
        lines.append(line)
    return lines


def requirements_digest(requirements: Path = REQUIREMENTS) -> str:
    """What the cached build depends on: the requirements and the pip target arguments."""
    digest = hashlib.sha256(requirements.read_bytes())
    digest.update(" ".join(PIP_TARGET_ARGS).encode())
    return digest.hexdigest()


def build_pure_wheels(lines: list[str], wheelhouse: Path) -> None:
    """Build a wheel for each ``SOURCE_ONLY`` requirement; it must be ``py3-none-any``."""
    for line in lines:
        match = _NAME.match(line)
        if not match or normalize(match.group(1)) not in SOURCE_ONLY:
            continue
        subprocess.run(  # noqa: S603 - fixed argv, no shell
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--wheel-dir",
                str(wheelhouse),
                line,
            ],
            check=True,
        )
    for wheel in wheelhouse.glob("*.whl"):
        if not wheel.name.endswith("-py3-none-any.whl"):
            raise SystemExit(f"{wheel.name} is not a pure-Python wheel: it cannot go to arm64")


def drop_runtime_packages(site: Path) -> None:
    """Remove boto3/botocore/s3transfer (packages and dist-info) pulled in as dependencies."""
    for entry in site.iterdir():
        project = normalize(entry.name.split("-", 1)[0]) if entry.suffix == ".dist-info" else None
        if entry.name in PROVIDED_BY_RUNTIME or project in PROVIDED_BY_RUNTIME:
            shutil.rmtree(entry)
    for leftover in ("bin",):
        shutil.rmtree(site / leftover, ignore_errors=True)
    for cache in site.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)


def build_dependencies_layer(*, force: bool = False) -> Path:
    """Build (or reuse) the dependency layer asset directory and return its path."""
    digest = requirements_digest()
    site = DEPENDENCIES_LAYER / "python"
    if not force and site.is_dir() and STAMP.is_file() and STAMP.read_text().strip() == digest:
        return DEPENDENCIES_LAYER

    DEPENDENCIES_LAYER.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=DEPENDENCIES_LAYER.parent) as scratch:
        scratch_path = Path(scratch)
        wanted = scratch_path / "requirements.txt"
        wanted.write_text("\n".join(layer_requirements()) + "\n")
        wheelhouse = scratch_path / "wheels"
        wheelhouse.mkdir()
        build_pure_wheels(layer_requirements(), wheelhouse)
        staged = scratch_path / "layer"
        subprocess.run(  # noqa: S603 - fixed argv, no shell
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                *PIP_TARGET_ARGS,
                "--find-links",
                str(wheelhouse),
                "--target",
                str(staged / "python"),
                "--requirement",
                str(wanted),
                # Keep transitive pins (e.g. botocore, later dropped) consistent with boto3's.
                "--constraint",
                str(REQUIREMENTS),
            ],
            check=True,
        )
        drop_runtime_packages(staged / "python")
        shutil.rmtree(DEPENDENCIES_LAYER, ignore_errors=True)
        staged.rename(DEPENDENCIES_LAYER)
    STAMP.write_text(digest + "\n")
    return DEPENDENCIES_LAYER


def unzipped_size(directory: Path) -> int:
    """Bytes of every file under ``directory`` except bytecode caches (what Lambda unpacks)."""
    return sum(
        path.stat().st_size
        for path in directory.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    args = parser.parse_args()
    build_dependencies_layer(force=args.force)
    for name, directory in (("dependencies", DEPENDENCIES_LAYER), ("core", CORE_LAYER)):
        size = unzipped_size(directory)
        print(f"{name} layer: {size / 1_000_000:.1f} MB unzipped ({directory.relative_to(ROOT)})")
    size = unzipped_size(DEPENDENCIES_LAYER)
    if size >= LAYER_LIMIT_BYTES:
        raise SystemExit(
            f"the dependency layer is {size / 1_000_000:.1f} MB unzipped, over "
            f"{LAYER_LIMIT_BYTES / 1_000_000:.0f} MB"
        )


if __name__ == "__main__":
    main()
