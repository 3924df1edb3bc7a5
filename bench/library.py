"""Library listing benchmark: what one page of ``GET /media`` reads, costs and takes, for
one user with 10,000 assets.

    make bench            (or: PYTHONPATH=.:layers/core/python python bench/library.py)

Starts the local stack (``python -m infra.local``) on free ports, uploads one real photo
through the API (presign → PUT → confirm, then waits for its variants) as a template,
and writes ``--assets`` READY assets for one user straight into the asset table: each
is the template's asset with its own id, key, name, dates and library fields, turned into
a record by the table adapter (``AssetTable._to_record``, so every derived index key is
the adapter's own), plus the processing facts a READY photo carries, in BatchWriteItem
calls of 25. All of them are in the folder ``big``; 1 % carry the tag ``lighthouse`` and
another 1 % have ``aurora`` in their caption. Then, with ``limit=50``, for

  folder   ``GET /media?folder=big``: the first page, and every page to the end;
  tag      ``GET /media?tag=lighthouse``: every request to the end;
  q        ``GET /media?q=aurora``: every request to the end;
  dense    ``GET /media?tag=family`` (a tag every asset has): the first three pages, to
           show what a filtered page reads when nearly everything matches;

it reports two things, measured apart:

- **time**: each request over HTTP against the local stack (gateway, JWT check, the real
  handler, moto): the median of ``--runs`` runs of each request (the folder's first page
  ``--runs`` times, all its pages ``--folder-passes`` times). moto is much slower than
  DynamoDB (a few hundred milliseconds for a Query that returns 50 items, here), so
  these times describe the local stack, not AWS.
- **reads**: the same requests, sent to the same handler code in this process (the
  local gateway as a WSGI app, pointed at the same moto server), with botocore hooks on
  the asset table's client recording each Query and its ``ScannedCount``. The items a
  Query read are the ones it returned when it has no filter; a filtered one is sent
  again without its filter, projecting the key, which names the items it read. Their
  sizes (DynamoDB's documented sizing rules, on the items as the emulator returns them)
  give its read request units: an eventually consistent Query costs 0.5 RRU per 4 KB
  of the items it read, summed and rounded up per Query, whether the filter kept them
  or not. The cost uses ``--price-per-million`` (a list price that may change).

Lines ``name=value target=… met=yes|no`` close the report.
"""

from __future__ import annotations

import argparse
import copy
import io
import itertools
import math
import os
import platform
import re
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import requests
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers/core/python")]

from infra.local.child import run_local_stack  # noqa: E402
from infra.local.config import LocalConfig  # noqa: E402
from infra.local.tokens import issue_token  # noqa: E402
from mediaport.names import TABLE_PARTITION_KEY as KEY  # noqa: E402

# A user id shaped like Cognito's (a UUID): it is repeated in several keys of each item.
USER = "5c1d6a8e-7f2b-4c3d-9e4f-0a1b2c3d4e5f"
TEMPLATE_USER = "library-bench-template"
FOLDER = "big"
TAG = "lighthouse"
WORD = "aurora"
LIMIT = 50
# pynamodb's batch_write sends BatchWriteItem calls of 25 items (DynamoDB's maximum).
BATCH = 25
# On-demand read request units, us-east-1, DynamoDB Standard table class: the list price
# since AWS halved on-demand throughput prices in November 2024 (it was $0.25 before).
PRICE_PER_MILLION_RRU = 0.125
# A Query reads in units of 4 KB; an eventually consistent one costs half a unit for each.
READ_UNIT_BYTES = 4096


# --- The data set ------------------------------------------------------------------------


def photo_bytes() -> bytes:
    """A 1600×1200 JPEG with some structure (so its variants are photo-sized)."""
    red = Image.linear_gradient("L").resize((1600, 1200))
    green = Image.effect_mandelbrot((1600, 1200), (-2.0, -1.2, 1.0, 1.2), 60)
    blue = Image.radial_gradient("L").resize((1600, 1200))
    buffer = io.BytesIO()
    Image.merge("RGB", (red, green, blue)).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def upload_template(api_url: str) -> str:
    """One real upload through the API, processed: the asset every record is made from."""
    auth = {"Authorization": f"Bearer {issue_token(TEMPLATE_USER)}"}
    data = photo_bytes()
    ticket = requests.post(
        f"{api_url}/media/presign",
        json={"filename": "template.jpg", "contentType": "image/jpeg", "size": len(data)},
        headers=auth,
        timeout=30,
    ).json()
    headers = {**ticket["headers"], "Content-Length": str(len(data))}
    requests.put(ticket["uploadUrl"], data=data, headers=headers, timeout=30).raise_for_status()
    asset_id: str = ticket["assetId"]
    confirmed = requests.patch(f"{api_url}/media/{asset_id}/confirm", headers=auth, timeout=30)
    if confirmed.status_code != 204:
        raise RuntimeError(f"confirm: {confirmed.status_code} {confirmed.text}")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        asset = requests.get(f"{api_url}/media/{asset_id}", headers=auth, timeout=30).json()
        if asset.get("processing") == "DONE":
            return asset_id
        time.sleep(0.3)
    raise RuntimeError(f"the template was not processed: {asset}")


def library_fields(index: int) -> dict[str, Any]:
    """What asset ``index`` has in the library: every one in FOLDER, 1 % tagged TAG, another
    1 % with WORD in the caption (and nothing else contains either)."""
    tags = ["2026", "family"] + ([TAG] if index % 100 == 3 else [])
    caption = f"Holiday, day {index % 30 + 1}" + (
        f": {WORD} over the bay" if index % 100 == 53 else ""
    )
    return {
        "folder": FOLDER,
        "tags": tags,
        "alt_text": "A photo from the summer trip",
        "caption": caption,
    }


@dataclass
class Library:
    """What was written: each listing's assets, newest first, as they should be listed."""

    expected: dict[str, list[str]]
    seconds: float


def write_library(count: int, template_id: str) -> Library:
    """``count`` READY assets of USER, made from the template through the table adapter."""
    from mediaport.services import current_services

    services = current_services()
    table = services.assets
    template = table.get(template_id)
    if template is None:
        raise RuntimeError("the template asset is gone")
    start = datetime.now(UTC) - timedelta(minutes=count)
    expected: dict[str, list[str]] = {"folder": [], "tag": [], "q": []}
    total_bytes = 0
    started = time.perf_counter()
    with table.record.batch_write() as batch:
        for index in range(count):
            asset_id = str(uuid.uuid4())
            created = start + timedelta(minutes=index)
            name = f"IMG_{index:05d}.jpg"
            fields = library_fields(index)
            asset = template.model_copy(
                update={
                    "asset_id": asset_id,
                    "user_id": USER,
                    "key": f"media/{USER}/{asset_id}/{name}",
                    "filename": name,
                    "original_filename": name,
                    "created_at": created,
                    "updated_at": created + timedelta(seconds=2),
                    "variants": {
                        size: variant.model_copy(
                            update={
                                "key": variant.key.replace(template_id, asset_id).replace(
                                    TEMPLATE_USER, USER
                                )
                            }
                        )
                        for size, variant in template.variants.items()
                    },
                    **fields,
                }
            )
            record = table._to_record(asset)
            # What the READY and processing transitions add to a pending asset's record.
            for fact in ("width", "height", "aspect_ratio", "dominant_color", "placeholder"):
                setattr(record, fact, getattr(asset, fact))
            record.processing = asset.processing.value if asset.processing else None
            record.variants = {k: v.model_dump() for k, v in asset.variants.items()}
            record.version = template.version
            batch.save(record)
            total_bytes += asset.size or 0
            expected["folder"].append(asset_id)
            if TAG in fields["tags"]:
                expected["tag"].append(asset_id)
            if WORD in fields["caption"]:
                expected["q"].append(asset_id)
    seconds = time.perf_counter() - started
    # The folder's record, as the READY transactions would have counted it.
    services.folders.record(
        USER, FOLDER, asset_count=count, bytes=total_bytes, created_at=start
    ).save()
    expected["dense"] = expected["folder"]  # every asset is tagged "family"
    return Library({name: ids[::-1] for name, ids in expected.items()}, seconds)


# --- DynamoDB item sizes -----------------------------------------------------------------


def value_size(value: dict[str, Any]) -> int:
    """One attribute value's size by DynamoDB's rules (docs: "DynamoDB item sizes and
    formats"): strings and binary by their bytes, numbers 1 byte per two significant
    digits plus 1, lists and maps 3 bytes plus 1 byte and the size of each element."""
    ((kind, data),) = value.items()
    if kind == "S":
        return len(data.encode())
    if kind == "N":
        digits = re.sub(r"[^0-9]", "", data.split("e")[0].split("E")[0]).strip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":
        return len(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(value_size(element) + 1 for element in data)
    if kind == "M":
        return 3 + sum(len(name.encode()) + value_size(v) + 1 for name, v in data.items())
    if kind in ("SS", "NS", "BS"):
        return sum(value_size({kind[0]: element}) for element in data)
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def read_units(sizes: list[int]) -> float:
    """An eventually consistent Query's read request units: the items it read, summed,
    rounded up to 4 KB, half a unit each."""
    return 0.5 * math.ceil(sum(sizes) / READ_UNIT_BYTES) if sizes else 0.5


# --- Counting the reads ------------------------------------------------------------------


@dataclass
class QueryCall:
    params: dict[str, Any]
    scanned: int = 0
    returned: int = 0
    sizes: list[int] = field(default_factory=list)

    @property
    def rru(self) -> float:
        return read_units(self.sizes)


@dataclass
class Request:
    """One ``GET /media`` request as the table saw it."""

    calls: list[QueryCall]
    items: list[str]
    next_cursor: str | None

    @property
    def scanned(self) -> int:
        return sum(call.scanned for call in self.calls)

    @property
    def rru(self) -> float:
        return sum(call.rru for call in self.calls)


class ReadCounter:
    """The asset table's Query calls made in this process, with what each read.

    A Query without a filter returns what it read, so its items are sized as they come.
    A filtered one is sent again without its filter, projecting only the key: that names
    the items it read, which an unfiltered listing of the same user has sized already.
    """

    def __init__(self, endpoint: str, region: str) -> None:
        from mediaport.services import current_services

        client = current_services().assets.record._get_connection().connection.client
        client.meta.events.register("before-parameter-build.dynamodb.Query", self._before)
        client.meta.events.register("after-call.dynamodb.Query", self._after)
        self.calls: list[QueryCall] = []
        self.sizes: dict[str, int] = {}
        self.replay = boto3.client("dynamodb", endpoint_url=endpoint, region_name=region)

    def _before(self, params: dict[str, Any], **_: Any) -> None:
        self.calls.append(QueryCall(copy.deepcopy(params)))

    def _after(self, parsed: dict[str, Any], **_: Any) -> None:
        call = self.calls[-1]
        call.scanned = int(parsed.get("ScannedCount", 0))
        call.returned = int(parsed.get("Count", 0))
        for item in parsed.get("Items", []):
            self.sizes[item[KEY]["S"]] = item_size(item)
        if "FilterExpression" not in call.params:
            call.sizes = [item_size(item) for item in parsed.get("Items", [])]

    def take(self) -> list[QueryCall]:
        """The calls since the last take, each with the sizes of the items it read."""
        calls, self.calls = self.calls, []
        for call in calls:
            if "FilterExpression" in call.params:
                read = self.replay.query(**_keys_read_by(call.params))["Items"]
                call.sizes = [self.sizes[item[KEY]["S"]] for item in read]
            if len(call.sizes) != call.scanned:
                raise RuntimeError(f"sized {len(call.sizes)} items, the Query read {call.scanned}")
        return calls


def _keys_read_by(params: dict[str, Any]) -> dict[str, Any]:
    """The same Query without its filter, projecting the table key: the items it read."""
    kept = {k: v for k, v in params.items() if k not in ("FilterExpression", "Select")}
    used = str(kept.get("KeyConditionExpression", ""))
    # DynamoDB refuses names and values that no expression uses.
    for name in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
        used_here = {
            k: v for k, v in kept.get(name, {}).items() if re.search(rf"{re.escape(k)}\b", used)
        }
        kept.pop(name, None)
        if used_here:
            kept[name] = used_here
    kept["ProjectionExpression"] = "#bench_key"
    kept.setdefault("ExpressionAttributeNames", {})["#bench_key"] = KEY
    return kept


# --- The listings ------------------------------------------------------------------------


@dataclass(frozen=True)
class Listing:
    name: str
    params: dict[str, str]
    # Requests to make at most (None: follow the cursors to the end).
    pages: int | None = None

    def query(self, cursor: str | None) -> dict[str, str]:
        return {**self.params, "limit": str(LIMIT), **({"cursor": cursor} if cursor else {})}


LISTINGS = (
    Listing("folder", {"folder": FOLDER}),
    Listing("tag", {"tag": TAG}),
    Listing("q", {"q": WORD}),
    # A filter that every asset matches: what a filtered page reads when matches are dense.
    Listing("dense", {"tag": "family"}, pages=3),
)


def walk_in_process(client: Any, counter: ReadCounter, listing: Listing) -> list[Request]:
    """Every request of a listing, to the end, through the in-process gateway."""
    auth = {"Authorization": f"Bearer {issue_token(USER)}"}
    walk: list[Request] = []
    cursor: str | None = None
    while True:
        response = client.get("/media", query_string=listing.query(cursor), headers=auth)
        if response.status_code != 200:
            raise RuntimeError(f"{listing.name}: {response.status_code} {response.get_data()}")
        page = response.get_json()
        cursor = page["nextCursor"]
        items = [item["assetId"] for item in page["items"]]
        walk.append(Request(counter.take(), items, cursor))
        if cursor is None or len(walk) == listing.pages:
            return walk


def time_over_http(api_url: str, listing: Listing, cursors: list[str | None]) -> list[float]:
    """Seconds for each request of a listing, from the cursors its walk handed out."""
    auth = {"Authorization": f"Bearer {issue_token(USER)}"}
    seconds: list[float] = []
    with requests.Session() as session:
        for cursor in cursors:
            start = time.perf_counter()
            response = session.get(
                f"{api_url}/media", params=listing.query(cursor), headers=auth, timeout=120
            )
            seconds.append(time.perf_counter() - start)
            if response.status_code != 200:
                raise RuntimeError(f"{listing.name}: {response.status_code} {response.text}")
    return seconds


def medians(runs: list[list[float]]) -> list[float]:
    """Each request's median over the runs."""
    return [statistics.median(run[i] for run in runs) for i in range(len(runs[0]))]


def check(listing: Listing, walk: list[Request], expected: list[str]) -> None:
    """The listing found exactly the assets it should, newest first, each once."""
    listed = [asset_id for request in walk for asset_id in request.items]
    if listing.pages is not None:
        expected = expected[: len(listed)]
    if listed != expected:
        raise RuntimeError(
            f"{listing.name}: listed {len(listed)} assets ({len(set(listed))} distinct), "
            f"expected {len(expected)} in order"
        )


def result(name: str, value: object, target: str | None = None, met: bool | None = None) -> str:
    text = f"{name}={value}"
    if target is not None:
        text += f" target{target} met={'yes' if met else 'no'}"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each request")
    parser.add_argument(
        "--folder-passes",
        type=int,
        default=1,
        help="timed passes through every page of the folder (each is --assets/50 requests)",
    )
    parser.add_argument(
        "--price-per-million",
        type=float,
        default=PRICE_PER_MILLION_RRU,
        help="USD per million read request units (on-demand, us-east-1 list price)",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mediaport-bench-") as temp:
        log = Path(temp) / "local-stack.log"
        with run_local_stack(log) as stack:
            config = stack.config
            # This process reaches the same emulator as the stack's functions do.
            os.environ.update(config.function_environment())
            os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
            template_id = upload_template(config.api_url)
            library = write_library(args.assets, template_id)
            print(
                f"{args.assets} assets of one user written in {library.seconds:.1f} s "
                f"(BatchWriteItem, {BATCH} a call); {len(library.expected['tag'])} tagged "
                f"{TAG!r}, {len(library.expected['q'])} with {WORD!r} in the caption; "
                f"load average {os.getloadavg()[0]:.1f}",
                flush=True,
            )
            report(stack.config, template_id, library, args)


def report(
    config: LocalConfig, template_id: str, library: Library, args: argparse.Namespace
) -> None:
    from werkzeug.test import Client

    from infra.local.gateway import Gateway

    client = Client(Gateway(config))
    counter = ReadCounter(config.aws_endpoint, config.region)
    raw = boto3.client("dynamodb", endpoint_url=config.aws_endpoint, region_name=config.region)
    template_item = raw.get_item(TableName=config.table_name, Key={KEY: {"S": template_id}})["Item"]
    walks: dict[str, list[Request]] = {}
    times: dict[str, list[float]] = {}
    totals: dict[str, float] = {}
    for listing in LISTINGS:
        print(f"{listing.name}: counting the reads, then timing over HTTP", flush=True)
        walk = walk_in_process(client, counter, listing)
        check(listing, walk, library.expected[listing.name])
        walks[listing.name] = walk
        cursors: list[str | None] = [None, *(request.next_cursor for request in walk[:-1])]
        if listing.pages is not None:
            cursors = cursors[: listing.pages]
        time_over_http(config.api_url, listing, cursors[:2])  # warm-up, not timed
        if listing.name == "folder":
            first = medians(
                [time_over_http(config.api_url, listing, [None]) for _ in range(args.runs)]
            )
            runs = [
                time_over_http(config.api_url, listing, cursors) for _ in range(args.folder_passes)
            ]
            times["folder_first"] = first
        else:
            runs = [time_over_http(config.api_url, listing, cursors) for _ in range(args.runs)]
        times[listing.name] = medians(runs)
        totals[listing.name] = statistics.median(sum(run) for run in runs)

    sizes = list(counter.sizes.values())
    price = args.price_per_million
    print(
        f"item sizes (DynamoDB's rules): the processed upload {item_size(template_item)} B; "
        f"the {len(sizes)} listed {min(sizes)}–{max(sizes)} B, mean {statistics.mean(sizes):.0f} B"
    )
    print(
        f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f}; runs={args.runs}, "
        f"folder passes={args.folder_passes}"
    )
    print()
    print(
        "| listing | requests | items read per request | Query calls per request "
        "| assets per request | RRU per request | ms per request (median) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for listing in LISTINGS:
        walk = walks[listing.name]
        name = " ".join(f"{k}={v}" for k, v in listing.params.items())
        made = f"{len(walk)}" if listing.pages is None else f"first {len(walk)}"
        print(
            f"| {name} | {made} | {_spread([r.scanned for r in walk])} "
            f"| {_spread([len(r.calls) for r in walk])} | {_spread([len(r.items) for r in walk])} "
            f"| {_spread([r.rru for r in walk])} "
            f"| {statistics.median(times[listing.name]) * 1000:.0f} |"
        )
    print(f"\n(USD at ${price} per million read request units: a list price that may change)")

    folder = walks["folder"]
    page = folder[0]
    rru_target = LIMIT * 2048 / READ_UNIT_BYTES / 2  # a full page of 2 KB items
    folder_read = sum(r.scanned for r in folder)
    lines = [
        result(
            "library_item_bytes_mean", round(statistics.mean(sizes)), "<=2048", max(sizes) <= 2048
        ),
        result("library_folder_items_per_page", page.scanned, f"<={LIMIT}", page.scanned <= LIMIT),
        result("library_folder_queries_per_page", len(page.calls), "<=1", len(page.calls) <= 1),
        result(
            "library_folder_rru_per_page",
            f"{page.rru:g}",
            f"<={rru_target:g}",
            page.rru <= rru_target,
        ),
        result("library_folder_usd_per_million_pages", f"{page.rru * price:.2f}"),
        result("library_folder_first_page_ms", round(times["folder_first"][0] * 1000)),
        result("library_folder_page_ms_median", round(statistics.median(times["folder"]) * 1000)),
        result("library_folder_pages_to_end", len(folder)),
        result(
            "library_folder_items_read_to_end",
            folder_read,
            f"<={args.assets}",
            folder_read <= args.assets,
        ),
        result("library_folder_seconds_to_end", f"{totals['folder']:.1f}"),
    ]
    for name in ("tag", "q"):
        walk = walks[name]
        read = max(r.scanned for r in walk)
        queries = max(len(r.calls) for r in walk)
        found = itertools.accumulate(len(request.items) for request in walk)
        to_a_page = next((i for i, total in enumerate(found, start=1) if total >= LIMIT), len(walk))
        lines += [
            result(f"library_{name}_items_read_per_request", read, "<=1000", read <= 1000),
            result(f"library_{name}_queries_per_request", queries, "<=5", queries <= 5),
            result(f"library_{name}_assets_per_request", _spread([len(r.items) for r in walk])),
            result(f"library_{name}_requests_for_{LIMIT}", to_a_page),
            result(f"library_{name}_requests_to_end", len(walk)),
            result(f"library_{name}_rru_per_request", f"{max(r.rru for r in walk):g}"),
            result(f"library_{name}_rru_to_end", f"{sum(r.rru for r in walk):g}"),
            result(
                f"library_{name}_usd_per_million_requests",
                f"{max(r.rru for r in walk) * price:.2f}",
            ),
            result(
                f"library_{name}_request_ms_median", round(statistics.median(times[name]) * 1000)
            ),
            result(f"library_{name}_seconds_to_end", f"{totals[name]:.1f}"),
        ]
    dense = walks["dense"]
    lines += [
        result("library_dense_items_read_per_page", _spread([r.scanned for r in dense])),
        result("library_dense_assets_per_page", _spread([len(r.items) for r in dense])),
        result("library_dense_rru_per_page", _spread([r.rru for r in dense])),
        result("library_dense_page_ms_median", round(statistics.median(times["dense"]) * 1000)),
    ]
    print("\n".join(lines))


def _spread(values: list[Any]) -> str:
    low, high = min(values), max(values)
    return f"{low:g}" if low == high else f"{low:g}–{high:g}"


if __name__ == "__main__":
    main()
