"""`make dev`: moto server + gateway + the workers (and, with MEDIAPORT_SCAN=local, the
stand-in scanner), in the foreground until Ctrl-C. With MEDIAPORT_EMULATOR=external, moto
is not started here: the one already on MEDIAPORT_AWS_PORT is used (and outlives us)."""

from __future__ import annotations

import logging
import os
import signal
import sys

from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

from infra.local.config import (
    DEV_WEBHOOK_SECRET,
    JOBS_QUEUE_NAME,
    QUEUE_NAME,
    WEBHOOK_QUEUE_NAME,
    LocalConfig,
)
from infra.local.emulator import keep_aws_promises
from infra.local.gateway import Gateway
from infra.local.provision import provision
from infra.local.scanner import LocalScanner
from infra.local.tokens import issue_token
from infra.local.worker import (
    TRANSFORM_FUNCTION,
    WEBHOOK_FUNCTION,
    EventWorker,
    StreamWorker,
)
from mediaport import names


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("botocore").setLevel(logging.WARNING)
    try:
        config = LocalConfig.from_environment()
    except ValueError as error:  # a setting the local stack cannot honour, said plainly
        sys.exit(f"mediaport local stack: {error}")
    os.environ.update(config.function_environment())

    moto = None
    if config.emulator == "embedded":
        keep_aws_promises()
        moto = ThreadedMotoServer(ip_address=config.host, port=config.aws_port, verbose=False)
        moto.start()
    queues = provision(config, config.aws_endpoint)
    # GuardDuty's stand-in hears of each new upload from the upload worker (scanner.py).
    scanner = LocalScanner(config.region, config.aws_endpoint) if config.scan == "local" else None
    worker = EventWorker(
        queues["queue_url"],
        queues["queue_arn"],
        config.region,
        config.aws_endpoint,
        also_deliver=scanner.submit if scanner else None,
    )
    jobs_worker = EventWorker(
        queues["jobs_queue_url"],
        queues["jobs_queue_arn"],
        config.region,
        config.aws_endpoint,
        TRANSFORM_FUNCTION,
    )
    # Webhook jobs → deliver_webhooks, which POSTs each to its URL, signed.
    webhook_worker = EventWorker(
        queues["webhook_queue_url"],
        queues["webhook_queue_arn"],
        config.region,
        config.aws_endpoint,
        WEBHOOK_FUNCTION,
    )
    # moto runs no TTL and no stream mapping: this worker stands in for both (TTL removals
    # → expire_assets; every asset and usage record → publish_events, unless disabled).
    streams = StreamWorker(
        config.table_name,
        config.region,
        config.aws_endpoint,
        publish_tables=(
            (config.table_name, config.usage_table_name) if config.local_events == "on" else ()
        ),
    )
    server = make_server(config.host, config.api_port, Gateway(config), threaded=True)

    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    # Ctrl-C and a plain `kill` both stop everything, even when started from a script
    # (a background job inherits SIGINT as ignored).
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    threads: list[EventWorker | StreamWorker | LocalScanner] = [
        worker,
        jobs_worker,
        webhook_worker,
        streams,
    ]
    if scanner is not None:
        threads.append(scanner)
    for thread in threads:
        thread.start()
    print(_banner(config), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        for thread in threads:
            thread.stop()
        server.server_close()
        if moto is not None:
            moto.stop()
        print("mediaport local stack stopped", flush=True)


def _banner(config: LocalConfig) -> str:
    token = issue_token("dev-user")
    return f"""
Mediaport local stack is up (Ctrl-C stops it)
  API          {config.api_url}            (demo page at /, Swagger UI at /docs)
  S3/AWS       {config.aws_endpoint}  (moto, {config.emulator}; dummy credentials: .env.example)
  bucket       {config.bucket_name}
  tables       {config.table_name}, {config.idempotency_table_name} (idempotency),
               {config.session_table_name} (Uppy upload sessions),
               {config.usage_table_name} (usage), {config.folder_table_name} (folders),
               {config.attachment_table_name} (attachments)
  queues       {QUEUE_NAME} (process_upload), {JOBS_QUEUE_NAME} (transform_media),
               {WEBHOOK_QUEUE_NAME} (deliver_webhooks)
  events       {_events(config)}
  webhooks     {_webhooks(config)}
  scanning     {_scanning(config)}
  token        make token USER=alice       (or POST {config.api_url}/local/token)
  a token for dev-user, valid 12 hours:
{token}
"""


def _events(config: LocalConfig) -> str:
    if config.local_events == "off":
        return "off (MEDIAPORT_LOCAL_EVENTS=off: the records wait in the streams)"
    return f"the streams → publish_events → moto's event bus {names.EVENT_BUS_NAME!r}"


def _webhooks(config: LocalConfig) -> str:
    if not config.webhook_url:
        return "off (set MEDIAPORT_WEBHOOK_URL to receive them)"
    dev_key = " (the dev key)" if config.webhook_secret == DEV_WEBHOOK_SECRET else ""
    return f"POSTed to {config.webhook_url}, signed with MEDIAPORT_WEBHOOK_SECRET{dev_key}"


def _scanning(config: LocalConfig) -> str:
    if config.scan == "local":
        return (
            f"local stand-in (EICAR test file only, not protection; "
            f"scan errors: {config.scan_error_policy})"
        )
    return "off"


if __name__ == "__main__":
    main()
