"""`make dev`: moto server + gateway + the workers (and, with MEDIAPORT_SCAN=local, the
stand-in scanner), in the foreground until Ctrl-C."""

from __future__ import annotations

import logging
import os
import signal
import sys

from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

from infra.local.config import JOBS_QUEUE_NAME, QUEUE_NAME, LocalConfig
from infra.local.emulator import keep_aws_promises
from infra.local.gateway import Gateway
from infra.local.provision import provision
from infra.local.scanner import LocalScanner
from infra.local.tokens import issue_token
from infra.local.worker import TRANSFORM_FUNCTION, EventWorker, StreamWorker


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("botocore").setLevel(logging.WARNING)
    try:
        config = LocalConfig.from_environment()
    except ValueError as error:  # a setting the local stack cannot honour, said plainly
        sys.exit(f"mediaport local stack: {error}")
    os.environ.update(config.function_environment())

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
    # moto runs no TTL and no stream mapping: this worker stands in for both.
    expirer = StreamWorker(config.table_name, config.region, config.aws_endpoint)
    server = make_server(config.host, config.api_port, Gateway(config), threaded=True)

    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    # Ctrl-C and a plain `kill` both stop everything, even when started from a script
    # (a background job inherits SIGINT as ignored).
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    threads: list[EventWorker | StreamWorker | LocalScanner] = [worker, jobs_worker, expirer]
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
        moto.stop()
        print("mediaport local stack stopped", flush=True)


def _banner(config: LocalConfig) -> str:
    token = issue_token("dev-user")
    return f"""
Mediaport local stack is up (Ctrl-C stops it)
  API          {config.api_url}            (demo page at /, Swagger UI at /docs)
  S3/AWS       {config.aws_endpoint}            (moto; dummy credentials, see .env.example)
  bucket       {config.bucket_name}
  tables       {config.table_name}, {config.idempotency_table_name} (idempotency),
               {config.session_table_name} (Uppy upload sessions),
               {config.usage_table_name} (usage), {config.folder_table_name} (folders),
               {config.attachment_table_name} (attachments)
  queues       {QUEUE_NAME} (process_upload), {JOBS_QUEUE_NAME} (transform_media)
  scanning     {_scanning(config)}
  token        make token USER=alice       (or POST {config.api_url}/local/token)
  a token for dev-user, valid 12 hours:
{token}
"""


def _scanning(config: LocalConfig) -> str:
    if config.scan == "local":
        return (
            f"local stand-in (EICAR test file only, not protection; "
            f"scan errors: {config.scan_error_policy})"
        )
    return "off"


if __name__ == "__main__":
    main()
