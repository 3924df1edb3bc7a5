"""Events for the host app, derived from the asset and usage tables' DynamoDB streams.

Every state change is a write, and every write is a record of its table's stream, with the
item before and after. ``publish_events`` reads the streams and turns each record into the
events it means; no handler publishes anything itself. So a function that dies right
after its write loses no event: the record stays in the stream until its events are on
the bus (and, with webhooks on, on the webhook queue), and only then does the stream
position move on (docs/events.md).

The derivation is pure: (before, after) in, events out. An event's ``eventId`` comes from
the record alone (an asset's ``version`` goes up by one on every write), so a record
delivered twice gives the same ids twice. Delivery is at least once; consumers dedupe on
``eventId``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from mediaport import serving, webhooks
from mediaport.adapters import publisher
from mediaport.config import ConfigurationError, Settings
from mediaport.model import Asset, AssetStatus, Processing, Variant, VariantStatus
from mediaport.model.usage import TOTAL
from mediaport.observability import logger
from mediaport.serving import PublicUrls

if TYPE_CHECKING:
    from mediaport.adapters.usage import UsageRecord
    from mediaport.services import Services


class DetailType(StrEnum):
    """The events' detail-types on the bus (and their ``type`` in a webhook)."""

    MEDIA_READY = "Media Ready"
    MEDIA_REJECTED = "Media Rejected"
    MEDIA_DELETED = "Media Deleted"
    MEDIA_RESTORED = "Media Restored"
    MEDIA_PURGED = "Media Purged"
    MEDIA_QUARANTINED = "Media Quarantined"
    MEDIA_RELEASED = "Media Released"
    VARIANT_READY = "Variant Ready"
    STORAGE_WARNING = "Storage Warning"

    @property
    def slug(self) -> str:
        """The detail-type as it appears in an ``eventId`` ("media-ready")."""
        return self.value.lower().replace(" ", "-")


@dataclass(frozen=True)
class Event:
    """One event for the host app: its detail-type and its detail (camelCase, JSON-ready)."""

    detail_type: DetailType
    detail: dict[str, Any]
    occurred_at: datetime

    @property
    def event_id(self) -> str:
        return str(self.detail["eventId"])


# An asset's stable CDN URLs (``serving.public_urls``), or None when the CDN does not serve
# it. Never presigned URLs: an event may be read long after they expire.
PublicUrlsOf = Callable[[Asset], PublicUrls | None]


def no_public_urls(_asset: Asset) -> PublicUrls | None:
    return None


# --- The asset table -------------------------------------------------------------------


def asset_events(
    before: Asset | None,
    after: Asset | None,
    *,
    recorded_at: datetime,
    public_urls: PublicUrlsOf = no_public_urls,
) -> list[Event]:
    """The events one write to the asset table means (none for most writes: an edit, an
    attachment, a requested variant queued, processing started or failed).

    ``before`` is None for a new record, ``after`` None for a removed one. ``recorded_at``
    (the stream record's time) stands in for a time the record does not carry.
    """
    if after is None:
        # A removal: TTL's (a deleted asset's purge writes a tombstone next, and that is
        # the event), an expired upload's or a rejected record's. Nothing for the host app.
        return []
    if after.purged_at is not None:
        if before is not None and before.purged_at is not None:
            return []  # the tombstone again (it only ever expires)
        return [_asset_event(DetailType.MEDIA_PURGED, after, after.purged_at, no_public_urls)]
    events: list[Event] = []
    change = _status_event(before, after)
    if change is not None:
        events.append(_asset_event(change, after, after.updated_at or recorded_at, public_urls))
    events += _variant_events(before, after, after.updated_at or recorded_at, public_urls)
    return events


def _status_event(before: Asset | None, after: Asset) -> DetailType | None:
    """What the write did to the asset's status (and to whether it is served), if
    anything the host app hears of."""
    old, new = (before.status if before else None), after.status
    if new is AssetStatus.REJECTED and old is not AssetStatus.REJECTED:
        return DetailType.MEDIA_REJECTED
    if new is AssetStatus.DELETED and old is not AssetStatus.DELETED:
        return DetailType.MEDIA_DELETED
    if old is AssetStatus.DELETED and new in (AssetStatus.READY, AssetStatus.QUARANTINED):
        return DetailType.MEDIA_RESTORED
    if new is AssetStatus.QUARANTINED and old is not AssetStatus.QUARANTINED:
        return DetailType.MEDIA_QUARANTINED
    if (
        old is AssetStatus.QUARANTINED
        and new is AssetStatus.READY
        and after.released_at is not None
        and (before is None or before.released_at != after.released_at)
    ):
        return DetailType.MEDIA_RELEASED
    if _became_served(before, after):
        return DetailType.MEDIA_READY
    return None


def _became_served(before: Asset | None, after: Asset) -> bool:
    """READY and served now, and it was not, or it was with other bytes.

    With scanning off that is PENDING → READY, or new bytes of a READY asset. With
    scanning on, an asset whose scan is still running is READY but not served: its
    "Media Ready" waits for the clean result, so a host app is never told of media it
    cannot be handed yet.
    """
    if not after.served:
        return False
    if before is None or not before.served:
        return True
    return before.checksum != after.checksum


def _variant_events(
    before: Asset | None, after: Asset, occurred_at: datetime, public_urls: PublicUrlsOf
) -> list[Event]:
    """One "Variant Ready" per variant made by this write: each automatic thumbnail when
    the set is recorded (processing → DONE), or a requested variant going READY."""
    if after.status is not AssetStatus.READY:
        return []
    made: list[tuple[str, str, Variant]] = []
    thumbnails_recorded = after.processing is Processing.DONE and (
        before is None
        or before.processing is not Processing.DONE
        or before.checksum != after.checksum
    )
    if thumbnails_recorded:
        made += [("thumbnail", name, variant) for name, variant in sorted(after.variants.items())]
    for name, variant in sorted(after.requested_variants.items()):
        was = before.requested_variants.get(name) if before is not None else None
        if variant.status is VariantStatus.READY and (
            was is None or was.status is not VariantStatus.READY or was.key != variant.key
        ):
            made.append(("requested", name, variant))
    events = []
    for kind, name, variant in made:
        event = _asset_event(DetailType.VARIANT_READY, after, occurred_at, public_urls, name)
        urls = public_urls(after) if after.served else None
        event.detail["variant"] = {
            "name": name,
            "kind": kind,
            "width": variant.width,
            "height": variant.height,
            "format": variant.format,
            "bytes": variant.bytes,
            "cdnUrl": urls.variants.get(name) if urls else None,
        }
        events.append(event)
    return events


def _asset_event(
    detail_type: DetailType,
    asset: Asset,
    occurred_at: datetime,
    public_urls: PublicUrlsOf,
    variant: str | None = None,
) -> Event:
    """An asset event: what every one carries, and what its kind adds."""
    version = asset.version if asset.version is not None else 0
    event_id = f"{asset.asset_id}:{version}:{detail_type.slug}"
    if variant is not None:
        event_id += f":{variant}"
    # Only a served asset has URLs (READY, and its scan clean when scanning is on): a
    # deleted, quarantined or purged one is no longer served.
    urls = public_urls(asset) if asset.served else None
    detail: dict[str, Any] = {
        "eventId": event_id,
        "assetId": asset.asset_id,
        "userId": asset.user_id,
        "scope": asset.scope,
        "status": asset.status.value,
        "version": version,
        "mimeType": asset.mime_type,
        "size": asset.size,
        "folder": asset.folder,
        "scanStatus": asset.scan_status.value if asset.scan_status else None,
        "occurredAt": iso(occurred_at),
        "cdnUrl": urls.original if urls else None,
        "variantUrls": dict(urls.variants) if urls else {},
    }
    if detail_type is DetailType.MEDIA_REJECTED:
        detail["rejectReason"] = asset.reject_reason.value if asset.reject_reason else None
        detail["rejectDetail"] = asset.reject_detail
    elif detail_type is DetailType.MEDIA_DELETED:
        detail["deletedAt"] = iso(asset.deleted_at) if asset.deleted_at else None
        detail["purgeAt"] = iso(asset.expires_at) if asset.expires_at else None
    elif detail_type is DetailType.MEDIA_PURGED:
        detail["purgedAt"] = iso(occurred_at)
    elif detail_type is DetailType.MEDIA_QUARANTINED:
        detail["scanResult"] = asset.scan_result
    elif detail_type is DetailType.MEDIA_RELEASED:
        detail["releasedAt"] = iso(asset.released_at) if asset.released_at else None
    return Event(detail_type, detail, occurred_at)


# --- The usage table -------------------------------------------------------------------


@dataclass(frozen=True)
class UsageTotal:
    """What the stream says of a user's total usage row."""

    user_id: str
    bytes: int
    files: int
    warning_level: int
    storage_warning_at: datetime | None


def usage_events(
    before: UsageTotal | None, after: UsageTotal | None, *, recorded_at: datetime
) -> list[Event]:
    """ "Storage Warning" when the total's warning level went up (80, then 100: once per
    crossing, as ``usage.follow_warnings`` records it); a level cleared is no event."""
    if after is None or after.warning_level <= (before.warning_level if before else 0):
        return []
    at = after.storage_warning_at or recorded_at
    detail = {
        "eventId": f"{after.user_id}:{after.warning_level}:{iso(at)}",
        "userId": after.user_id,
        "level": after.warning_level,
        "usedBytes": after.bytes,
        "usedFiles": after.files,
        "occurredAt": iso(at),
    }
    return [Event(DetailType.STORAGE_WARNING, detail, at)]


def usage_total(record: UsageRecord) -> UsageTotal | None:
    """The total row a usage record is, or None for another dimension's row."""
    if record.dimension != TOTAL:
        return None
    return UsageTotal(
        user_id=record.user_id,
        bytes=int(record.bytes or 0),
        files=int(record.files or 0),
        warning_level=int(record.warning_level or 0),
        storage_warning_at=record.storage_warning_at,
    )


# --- From a stream record to the bus -----------------------------------------------------


@dataclass(frozen=True)
class StreamChange:
    """One stream record: the table it is of, its images (DynamoDB-typed, None when the
    item did not exist before or does not after) and when DynamoDB recorded it."""

    table_name: str
    old_image: Mapping[str, Any] | None
    new_image: Mapping[str, Any] | None
    recorded_at: datetime


def events_of(services: Services, change: StreamChange) -> list[Event]:
    """The events of one stream record, whichever table it is of."""
    settings = services.settings

    def public_urls(asset: Asset) -> PublicUrls | None:
        return serving.public_urls(asset, settings)

    if change.table_name == settings.table_name:
        assets = services.assets
        before = assets.from_stream_image(change.old_image) if change.old_image else None
        after = assets.from_stream_image(change.new_image) if change.new_image else None
        return asset_events(before, after, recorded_at=change.recorded_at, public_urls=public_urls)
    if change.table_name == settings.usage_table_name:
        record = services.usage.record
        old = (
            usage_total(record.from_raw_data(dict(change.old_image))) if change.old_image else None
        )
        new = (
            usage_total(record.from_raw_data(dict(change.new_image))) if change.new_image else None
        )
        return usage_events(old, new, recorded_at=change.recorded_at)
    logger.warning("stream record of a table without events", extra={"table": change.table_name})
    return []


def publish(settings: Settings, events: Sequence[Event]) -> None:
    """Put the events on the bus, then one webhook job per event and configured URL on
    the webhook queue. Raises when any did not get there: the stream record is delivered
    again, and what did get there is sent again (consumers dedupe on ``eventId``)."""
    if not events:
        return
    if not settings.event_bus_name:
        raise ConfigurationError("MEDIAPORT_EVENT_BUS_NAME is not set: events have no bus")
    publisher.put_events(
        settings.event_bus_name,
        [
            publisher.BusEntry(
                event.detail_type.value, webhooks.as_json(event.detail), event.occurred_at
            )
            for event in events
        ],
    )
    urls = webhooks.webhook_urls(settings.webhook_url)
    if urls:
        if not settings.webhook_queue_url:
            raise ConfigurationError(
                "MEDIAPORT_WEBHOOK_URL is set but MEDIAPORT_WEBHOOK_QUEUE_URL is not"
            )
        publisher.send_messages(
            settings.webhook_queue_url,
            [
                webhooks.job_for(url, event.event_id, event.detail_type.value, event.detail)
                for event in events
                for url in urls
            ],
        )
    logger.info(
        "events published",
        extra={
            "eventIds": [event.event_id for event in events],
            "webhookJobs": len(events) * len(urls),
        },
    )


def iso(moment: datetime) -> str:
    """A time as events carry it: ISO 8601 in UTC, "Z"-suffixed."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
