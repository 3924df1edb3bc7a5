"""CloudFront standard log files, written as CloudFront writes them (Developer Guide,
"Standard logging reference"): gzip'd, tab-separated, a ``#Version`` and a ``#Fields``
line, then one line of 33 fields per request."""

from __future__ import annotations

import gzip
from dataclasses import dataclass

HEADER = (
    "#Version: 1.0\n"
    "#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem "
    "sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type "
    "x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for "
    "ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status "
    "fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type "
    "sc-content-type sc-content-len sc-range-start sc-range-end\n"
)
HOST = "d111111abcdef8.cloudfront.net"


@dataclass(frozen=True)
class Request:
    """One logged request: what the count reads, the rest as CloudFront fills it in."""

    path: str
    sc_bytes: int
    date: str = "2026-11-21"
    method: str = "GET"
    status: int = 200
    result: str = "Miss"

    def line(self) -> str:
        fields = [
            self.date,
            "21:02:31",
            "LAX1-C1",
            str(self.sc_bytes),
            "192.0.2.100",
            self.method,
            HOST,
            self.path,
            str(self.status),
            "https://app.example.com/feed",
            "Mozilla/5.0%20(X11;%20Linux%20x86_64)%20AppleWebKit/537.36",
            "-",
            "-",
            self.result,
            "SOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==",
            HOST,
            "https",
            "235",
            "0.012",
            "-",
            "TLSv1.3",
            "TLS_AES_128_GCM_SHA256",
            self.result,
            "HTTP/2.0",
            "-",
            "-",
            "52144",
            "0.011",
            self.result,
            "image/webp" if self.status in (200, 206) else "-",
            str(max(self.sc_bytes - 380, 0)) if self.status in (200, 206) else "-",
            "-",
            "-",
        ]
        return "\t".join(fields)


def log_text(*requests: Request) -> str:
    return HEADER + "".join(f"{request.line()}\n" for request in requests)


def log_file(*requests: Request) -> bytes:
    """A log file as CloudFront delivers it to S3 (gzip)."""
    return gzip.compress(log_text(*requests).encode())


def log_key(prefix: str, unique: str = "a1b2c3d4") -> str:
    """Where CloudFront (legacy standard logging) puts it: prefix, distribution, hour."""
    return f"{prefix}E2EXAMPLE1234.2026-11-21-21.{unique}.gz"
