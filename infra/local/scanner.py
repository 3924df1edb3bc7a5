"""The local stand-in for GuardDuty Malware Protection for S3 (``MEDIAPORT_SCAN=local``).

It is not protection. It recognises one thing, the EICAR anti-virus test string, anywhere
in an object's bytes, and reports everything else clean (docs/scanning.md).

What it does is what GuardDuty does for each new object under ``media/``: read the object,
tag it ``GuardDutyMalwareScanStatus`` = ``NO_THREATS_FOUND`` or ``THREATS_FOUND`` (keeping
its other tags), and publish GuardDuty's EventBridge event, "GuardDuty Malware Protection
Object Scan Result", in GuardDuty's shape: handed to ``functions/scan_result`` as the
deployed EventBridge rule hands it, and put on the emulator's default event bus too, where
GuardDuty puts it on AWS.

How it hears of new objects: the upload worker hands it every batch of S3 notifications
it receives (``EventWorker(also_deliver=scanner.submit)``), after process_upload had them,
as if the one S3 event reached two consumers. On AWS, GuardDuty hears of new objects
through the bucket's EventBridge notifications and a rule of its own, beside the upload
queue. A second queue notification on ``media/`` was the other way: moto takes it, but S3
refuses two configurations whose prefixes overlap for the same event type, so the local
bucket would be one AWS cannot have (tests/integration/test_provision.py holds it to the
deployed one's single queue configuration). The scanner takes a message only on its first
delivery (SQS redelivers what process_upload failed; S3 sent the event once, and GuardDuty
scans an object once), and scans on its own thread from its own queue, so the upload path
never waits for it. Handing a batch over after the process function had it makes the
usual order the one seen on AWS, where a scan takes seconds: the asset is READY
(scanStatus PENDING) when its result arrives. The other order happens on AWS too (and
here when process_upload failed the upload's first delivery): scan_result then fails
until the upload is settled, so a failed delivery is retried for a few seconds, and the
settle reads the result from the object's tag meanwhile.
"""

from __future__ import annotations

import functools
import json
import logging
import queue
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from infra.local import lambdas
from mediaport import names

log = logging.getLogger("mediaport.local.scanner")

SCAN_RESULT_FUNCTION = "scan_result"
# The EICAR test file's 68 characters (eicar.org), in two halves so that this source file
# is not itself flagged by a real scanner on a developer's machine.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
# The threat name GuardDuty reports for it (AWS's own example event).
EICAR_THREAT_NAME = "EICAR-Test-File (not a virus)"
# Bytes read at a time: a 5 GB upload is streamed, never held in memory.
CHUNK_SIZE = 1024 * 1024
# Seconds between deliveries of an event scan_result failed (then it is logged and
# dropped): short, unlike AWS's retries, so a local asset never waits minutes.
DELIVERY_RETRY_DELAYS = (1.0, 2.0, 4.0)
# S3 keeps at most 10 tags on an object; GuardDuty cannot add its tag to a full set.
MAX_OBJECT_TAGS = 10

# Who the local events say they come from: the local stack's account (events.py's too).
LOCAL_ACCOUNT_ID = "000000000000"
DETAIL_TYPE = "GuardDuty Malware Protection Object Scan Result"
EVENT_SOURCE = "aws.guardduty"
# GuardDuty's scanStatus for each scanResultStatus.
SCAN_STATUS_OF_RESULT = {
    names.SCAN_CLEAN_TAG_VALUE: "COMPLETED",
    names.SCAN_INFECTED_TAG_VALUE: "COMPLETED",
    "UNSUPPORTED": "SKIPPED",
    "ACCESS_DENIED": "SKIPPED",
    "FAILED": "FAILED",
}
# S3 error codes that mean the object is not (or no longer) the one the event announced.
_GONE = {"NoSuchKey", "404", "NotFound"}
_REPLACED = {"PreconditionFailed", "412"}

Deliver = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class NewObject:
    """An object an S3 notification announced: its bucket, key and ETag (unquoted)."""

    bucket: str
    key: str
    etag: str | None = None


def new_objects(messages: Iterable[dict[str, Any]]) -> Iterator[NewObject]:
    """The objects created under ``media/`` that these upload-queue messages announce,
    from first deliveries only (S3 sends each event once; SQS repeats what failed)."""
    for message in messages:
        if message.get("Attributes", {}).get("ApproximateReceiveCount", "1") != "1":
            continue
        try:
            records = json.loads(message["Body"]).get("Records", [])
        except (ValueError, AttributeError):
            continue  # not an S3 event (S3's test event has no records either)
        for record in records:
            if not str(record.get("eventName", "")).startswith("ObjectCreated"):
                continue
            s3 = record["s3"]
            # S3 encodes keys in events: spaces as "+", UTF-8 as %XX.
            key = unquote_plus(s3["object"]["key"])
            if key.startswith(names.UPLOAD_PREFIX):
                yield NewObject(s3["bucket"]["name"], key, s3["object"].get("eTag"))


def contains_eicar(chunks: Iterable[bytes]) -> bool:
    """Whether the EICAR string is anywhere in these bytes, also across two chunks."""
    carry = b""
    for chunk in chunks:
        window = carry + chunk
        if EICAR in window:
            return True
        # Enough of the end to complete a string that starts in this chunk.
        carry = window[-(len(EICAR) - 1) :]
    return False


def malware_protection_plan_arn(region: str, account: str = LOCAL_ACCOUNT_ID) -> str:
    return f"arn:aws:guardduty:{region}:{account}:malware-protection-plan/mediaport-local"


def scan_result_event(
    *,
    bucket: str,
    key: str,
    etag: str,
    result: str,
    region: str,
    version_id: str | None = None,
    account: str = LOCAL_ACCOUNT_ID,
    event_id: str | None = None,
    time: datetime | None = None,
) -> dict[str, Any]:
    """GuardDuty Malware Protection for S3's "Object Scan Result" event, as EventBridge
    hands it to a Lambda target. ``result`` is the scanResultStatus: NO_THREATS_FOUND,
    THREATS_FOUND, UNSUPPORTED, ACCESS_DENIED or FAILED; ``etag`` is unquoted, as S3's
    own event notifications carry it."""
    moment = time or datetime.now(UTC)
    threats = [{"name": EICAR_THREAT_NAME}] if result == names.SCAN_INFECTED_TAG_VALUE else None
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": DETAIL_TYPE,
        "source": EVENT_SOURCE,
        "account": account,
        "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [malware_protection_plan_arn(region, account)],
        "detail": {
            "schemaVersion": "1.0",
            "scanStatus": SCAN_STATUS_OF_RESULT[result],
            "resourceType": "S3_OBJECT",
            "s3ObjectDetails": {
                "bucketName": bucket,
                "objectKey": key,
                "eTag": etag.strip('"'),
                "versionId": version_id,
                "s3Throttled": False,
            },
            "scanResultDetails": {"scanResultStatus": result, "threats": threats},
        },
    }


class LocalScanner(threading.Thread):
    """Scans the objects it is handed, one at a time, on its own thread."""

    def __init__(
        self,
        region: str,
        endpoint_url: str | None,
        *,
        deliver: Deliver | None = None,
        chunk_size: int = CHUNK_SIZE,
        retry_delays: tuple[float, ...] = DELIVERY_RETRY_DELAYS,
    ) -> None:
        super().__init__(name="mediaport-local-scanner", daemon=True)
        self.region = region
        self.s3 = boto3.client("s3", region_name=region, endpoint_url=endpoint_url)
        self.events = boto3.client("events", region_name=region, endpoint_url=endpoint_url)
        # Where a result goes: the scan_result function, as the EventBridge rule sends it.
        self.deliver: Deliver = deliver or functools.partial(lambdas.invoke, SCAN_RESULT_FUNCTION)
        self.chunk_size = chunk_size
        self.retry_delays = retry_delays
        self._objects: queue.Queue[NewObject] = queue.Queue()
        self._stopping = threading.Event()

    def submit(self, messages: list[dict[str, Any]]) -> None:
        """Queue the new uploads these S3 notifications announce (the upload worker's
        ``also_deliver``): never blocks the caller."""
        for new_object in new_objects(messages):
            self._objects.put(new_object)

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                new_object = self._objects.get(timeout=0.5)
            except queue.Empty:
                continue
            self._scan_logged(new_object)

    def drain(self) -> list[dict[str, Any]]:
        """Scan what is queued now, on the caller's thread (for tests); the events sent."""
        events: list[dict[str, Any]] = []
        while True:
            try:
                new_object = self._objects.get_nowait()
            except queue.Empty:
                return events
            if (event := self._scan_logged(new_object)) is not None:
                events.append(event)

    def _scan_logged(self, new_object: NewObject) -> dict[str, Any] | None:
        try:
            return self.scan(new_object)
        except Exception:  # keep scanning: one bad object must not stop the scanner
            log.exception("scan of %s failed", new_object.key)
            return None

    def scan(self, new_object: NewObject) -> dict[str, Any] | None:
        """Scan one object, tag it, publish and deliver the result; returns the event, or
        None when the object is gone or no longer the one announced (nothing to report)."""
        try:
            read = self._read(new_object)
        except (ClientError, BotoCoreError):
            # GuardDuty reports a scan it could not do as FAILED (and tags it so).
            log.exception("could not read %s: reported FAILED", new_object.key)
            read = (new_object.etag or "", None, "FAILED")
        if read is None:
            return None
        etag, version_id, result = read
        self._tag(new_object, result)
        event = scan_result_event(
            bucket=new_object.bucket,
            key=new_object.key,
            etag=etag,
            result=result,
            region=self.region,
            version_id=version_id,
        )
        self._publish(event)
        self._deliver(event)
        return event

    def _read(self, new_object: NewObject) -> tuple[str, str | None, str] | None:
        """(ETag, version id, scan result) of the announced object, read as a stream."""
        options = {"IfMatch": f'"{new_object.etag}"'} if new_object.etag else {}
        try:
            response = self.s3.get_object(Bucket=new_object.bucket, Key=new_object.key, **options)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in _GONE:
                log.info("%s went before it was scanned", new_object.key)
                return None
            if code in _REPLACED:
                log.info("%s was replaced before it was scanned", new_object.key)
                return None
            raise
        body = response["Body"]
        try:
            infected = contains_eicar(body.iter_chunks(self.chunk_size))
        finally:
            body.close()
        result = names.SCAN_INFECTED_TAG_VALUE if infected else names.SCAN_CLEAN_TAG_VALUE
        return response["ETag"].strip('"'), response.get("VersionId"), result

    def _tag(self, new_object: NewObject, result: str) -> None:
        """Add (or replace) the scan tag, keeping the object's other tags: PutObjectTagging
        replaces the whole set."""
        where = {"Bucket": new_object.bucket, "Key": new_object.key}
        try:
            tags = [
                tag
                for tag in self.s3.get_object_tagging(**where)["TagSet"]
                if tag["Key"] != names.SCAN_TAG_KEY
            ]
            if len(tags) >= MAX_OBJECT_TAGS:
                # GuardDuty's "Post Scan Action Failed": the result is still published.
                log.warning("%s has %d tags already: not tagged", new_object.key, len(tags))
                return
            tags.append({"Key": names.SCAN_TAG_KEY, "Value": result})
            self.s3.put_object_tagging(**where, Tagging={"TagSet": tags})
        except ClientError as error:
            if error.response.get("Error", {}).get("Code", "") not in _GONE:
                raise
            log.info("%s went before it was tagged", new_object.key)

    def _publish(self, event: dict[str, Any]) -> None:
        """Put the event on the emulator's default bus, where GuardDuty puts it on AWS."""
        try:
            self.events.put_events(
                Entries=[
                    {
                        "Source": event["source"],
                        "DetailType": event["detail-type"],
                        "Resources": event["resources"],
                        "Detail": json.dumps(event["detail"]),
                        "Time": datetime.now(UTC),
                    }
                ]
            )
        except (ClientError, BotoCoreError):
            # Nothing local reads the bus; the function still gets the event.
            log.warning("scan result not put on the default event bus", exc_info=True)

    def _deliver(self, event: dict[str, Any]) -> bool:
        """Hand the event to scan_result, again after each delay while it fails."""
        key = event["detail"]["s3ObjectDetails"]["objectKey"]
        for delay in (*self.retry_delays, None):
            try:
                self.deliver(event)
                return True
            except Exception:  # the function failed, as a Lambda invocation can
                if delay is None:
                    log.exception("scan_result kept failing; the result for %s dropped", key)
                    return False
                log.warning("scan_result failed for %s; again in %ss", key, delay, exc_info=True)
                self._stopping.wait(delay)
        return False
