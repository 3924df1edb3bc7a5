"""The CDN tag (``names.CDN_TAG_KEY``): the bucket policy lets CloudFront read only the
files that carry it, so the domain puts it on exactly a public asset's original and
variants while it may be shown, and takes it off when it may not. moto does not evaluate
bucket policies, so these tests check the tags themselves."""

from __future__ import annotations

from typing import Any

from mediaport import names
from tests import samples
from tests.integration.conftest import Stack
from tests.integration.jobs import run_jobs
from tests.integration.test_processing import deliver, receive_all

CDN = {"Key": names.CDN_TAG_KEY, "Value": names.CDN_TAG_VALUE}


def tags(stack: Stack, key: str) -> list[dict[str, str]]:
    tag_set: list[dict[str, str]] = stack.s3.get_object_tagging(Bucket=stack.bucket, Key=key)[
        "TagSet"
    ]
    return tag_set


def ready(stack: Stack, scope: str) -> dict[str, Any]:
    data = samples.encode(samples.photo(600, 400), "PNG")
    ticket = stack.start_upload(data, "image/png", filename="p.png", scope=scope)
    deliver(stack, receive_all(stack))  # settled and thumbnails made
    return stack.asset_item(ticket["assetId"])


def files_of(item: dict[str, Any]) -> list[str]:
    return [
        item["key"],
        *(v["key"] for v in item.get("variants", {}).values()),
        *(v["key"] for v in item.get("requestedVariants", {}).values()),
    ]


def test_a_public_assets_files_carry_the_tag_and_a_private_ones_none(stack: Stack) -> None:
    public = ready(stack, "POST_ATTACHMENT")
    private = ready(stack, "GENERIC")
    stack.call("POST", f"/media/{public['assetId']}/resize", json={"width": 50})
    run_jobs(stack)
    public = stack.asset_item(public["assetId"])

    assert len(files_of(public)) == 5  # the original, three thumbnails, one resize
    for key in files_of(public):
        assert tags(stack, key) == [CDN], key
    for key in files_of(private):
        assert tags(stack, key) == [], key


def test_a_delete_takes_the_tag_off_and_a_restore_puts_it_back(stack: Stack) -> None:
    asset = ready(stack, "POST_ATTACHMENT")
    asset_id = asset["assetId"]

    assert stack.call("DELETE", f"/media/{asset_id}").status_code == 204
    assert all(tags(stack, key) == [] for key in files_of(asset))

    assert stack.call("POST", f"/media/{asset_id}/restore").status_code == 200
    assert all(tags(stack, key) == [CDN] for key in files_of(asset))


def test_a_released_copy_of_a_public_asset_carries_the_tag(stack: Stack) -> None:
    from infra.local.lambdas import invoke
    from infra.local.scanner import scan_result_event
    from infra.local.tokens import issue_token

    asset = ready(stack, "POST_ATTACHMENT")
    event = scan_result_event(
        bucket=stack.bucket,
        key=asset["key"],
        etag=asset["checksum"],
        result=names.SCAN_INFECTED_TAG_VALUE,
        region="us-east-1",
    )
    assert invoke("scan_result", event) == {"outcome": "QUARANTINED"}

    released = stack.call(
        "POST",
        f"/admin/media/{asset['assetId']}/release",
        user=None,
        headers={"Authorization": f"Bearer {issue_token('root', admin=True)}"},
        json={"reason": "reviewed"},
    )

    assert released.status_code == 200, released.get_data(as_text=True)
    copy = stack.asset_item(asset["assetId"])["key"]
    assert copy.startswith(names.RELEASED_PREFIX)
    assert tags(stack, copy) == [CDN]
