"""The checked-in OpenAPI document is a valid OpenAPI 3 document with no dangling $ref."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

from infra.local.openapi import build_document

DOCUMENT = Path(__file__).resolve().parents[2] / "specs" / "openapi" / "media.yaml"


def _checked_in() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
    return document


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"{ref} points outside the document"
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict), f"{ref} does not resolve"
        assert part in node, f"{ref} does not resolve"
        node = node[part]
    return node


DOCUMENTS = {"checked-in": _checked_in, "generated": build_document}


@pytest.mark.parametrize("load", DOCUMENTS.values(), ids=DOCUMENTS.keys())
def test_the_document_is_valid_openapi(load) -> None:
    validate(load())


@pytest.mark.parametrize("load", DOCUMENTS.values(), ids=DOCUMENTS.keys())
def test_every_ref_resolves(load) -> None:
    document = load()
    refs = set(_refs(document))
    assert refs, "a document with no $ref at all is suspicious"
    for ref in sorted(refs):
        _resolve(document, ref)


def test_every_component_schema_is_used() -> None:
    document = _checked_in()
    used = {ref.rsplit("/", 1)[-1] for ref in _refs(document)}
    unused = set(document["components"]["schemas"]) - used
    assert not unused, f"schemas nothing refers to: {sorted(unused)}"


def _schemas_with_pydantic_bounds(node: Any, where: str = "") -> Iterator[str]:
    """Schemas carrying pydantic's own names for bounds (``ge``, ``le``…) where JSON Schema
    has ``minimum``/``maximum``: a validator (and a fuzzer) reading the document ignores them."""
    if isinstance(node, dict):
        if node.get("type") in ("integer", "number") and {"ge", "le", "gt", "lt"} & set(node):
            yield where
        for key, value in node.items():
            yield from _schemas_with_pydantic_bounds(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _schemas_with_pydantic_bounds(item, f"{where}/{index}")


def test_every_bound_is_written_the_json_schema_way() -> None:
    assert list(_schemas_with_pydantic_bounds(_checked_in())) == []
