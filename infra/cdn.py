"""Serving through a CDN (context ``cdn``, on by default): a CloudFront distribution in
front of the media bucket with origin access control, its standard logs in a log bucket,
and each new log file → SQS (with a DLQ) → count_bandwidth.

The bucket stays private (Block Public Access on). CloudFront reads it as its own service
principal, and the bucket policy statement this module adds (``AllowCdnReadingServedMedia``)
lets it, for this distribution only, read exactly the objects Mediaport tagged servable
(``CDN_TAG_KEY`` = ``CDN_TAG_VALUE``) under the prefixes that hold what assets show:
originals (``media/``, and ``released/`` for those an admin released) and variants
(``derived/``). Whatever lacks the tag is refused (403): a private asset's files, a
deleted one's, anything not settled. With scanning on, ``DenyCdnReadingUnscannedMedia``
(``infra/scanning.py``) also refuses CloudFront any ``media/`` object its scan did not
clear, whatever its other tags say.

CDK's own ``S3BucketOrigin.with_origin_access_control`` would allow the distribution every
object of the bucket; it is handed a reference to the bucket instead, so it adds nothing,
and the one statement above is written here.
"""

from __future__ import annotations

from aws_cdk import Annotations, Duration, RemovalPolicy
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constants import (
    BANDWIDTH_BATCH_SIZE,
    BANDWIDTH_MAX_RECEIVE_COUNT,
    CDN_DEFAULT_TTL,
    CDN_LOG_EXPIRY,
    CDN_MAX_TTL,
    CDN_PRICE_CLASS,
    VISIBILITY_TIMEOUT_FACTOR,
)
from infra.nag import acknowledge
from infra.processing import dead_letter_queue
from mediaport import names

# The principal CloudFront's origin access control reads the bucket as (any distribution).
CLOUDFRONT_PRINCIPAL = "cloudfront.amazonaws.com"
# The object tag that makes an object servable by the CDN (``mediaport.names`` says who
# sets and removes it).
CDN_TAG_KEY = names.CDN_TAG_KEY
CDN_TAG_VALUE = names.CDN_TAG_VALUE
# What an asset's views link to: originals (uploaded, or released from quarantine) and
# variants. Nothing else in the bucket is ever served.
SERVED_PREFIXES = (names.UPLOAD_PREFIX, names.RELEASED_PREFIX, names.DERIVED_PREFIX)
# CloudFront writes ``{prefix}{distribution id}.{yyyy-mm-dd-hh}.{unique}.gz``.
LOG_FILE_SUFFIX = ".gz"

# Functions that render an asset (its cdnUrl): they get the distribution's base URL.
CDN_RENDERERS = (
    "media",
    "attachments",
    "transforms",
    "multipart",
    "direct_upload",
    "uppy",
    "admin",
    "publish_events",
)
# Functions that stop a public asset from serving (delete, quarantine, purge): they get
# the distribution's id and invalidate the cached copies of its original and of each
# variant (a variant's key is never reused, but a deleted asset's thumbnail would
# otherwise stay at the edges for its year-long max-age).
CDN_INVALIDATORS = ("media", "scan_result", "expire_assets")
# What they count when CloudFront refuses an invalidation (logged with its paths, never
# raised: the delete has happened): alarmed, since the edges may serve the original until
# their cached copy expires.
CDN_FAILURE_METRICS = {
    "CdnInvalidationFailures": "CloudFront refused an invalidation: a deleted, quarantined "
    "or purged original may be served from the edges until its cache expires (the log "
    "names the paths to invalidate by hand).",
}

# Every path outside the served prefixes: answered at the edge, never asked of the bucket.
NOT_FOUND_FUNCTION = """\
function handler(event) {
  return { statusCode: 404, statusDescription: "Not Found" };
}
"""


class MediaCdn(Construct):
    """The distribution, its log bucket and the log files' queue; ``feed`` connects the
    bandwidth counter."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket: s3.IBucket,
        access_logs: s3.IBucket,
        removal_policy: RemovalPolicy,
        counter_timeout: Duration,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_bucket = s3.Bucket(
            self,
            "Logs",
            # CloudFront's standard logs are written with an ACL grant to its log delivery
            # account, so ACLs must be on; the bucket still owns every object it gets.
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            lifecycle_rules=[s3.LifecycleRule(id="expire-cdn-logs", expiration=CDN_LOG_EXPIRY)],
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="cdn-log-bucket/",
            removal_policy=removal_policy,
            auto_delete_objects=removal_policy == RemovalPolicy.DESTROY,
        )

        origin = origins.S3BucketOrigin.with_origin_access_control(
            s3.Bucket.from_bucket_attributes(
                self,
                "Origin",
                bucket_arn=bucket.bucket_arn,
                bucket_regional_domain_name=bucket.bucket_regional_domain_name,
            ),
            origin_access_levels=[cloudfront.AccessLevel.READ],
        )
        serving = cloudfront.BehaviorOptions(
            origin=origin,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
            cache_policy=cloudfront.CachePolicy(
                self,
                "MediaCache",
                comment="Mediaport media: the origin's Cache-Control, keyed by path only",
                default_ttl=CDN_DEFAULT_TTL,
                min_ttl=Duration.seconds(0),
                max_ttl=CDN_MAX_TTL,
                cookie_behavior=cloudfront.CacheCookieBehavior.none(),
                header_behavior=cloudfront.CacheHeaderBehavior.none(),
                query_string_behavior=cloudfront.CacheQueryStringBehavior.none(),
                # Not compressed (below), so one cached copy per object, whatever the
                # viewer's Accept-Encoding.
                enable_accept_encoding_gzip=False,
                enable_accept_encoding_brotli=False,
            ),
            # What is served is already compressed (JPEG, PNG, WebP, AVIF, GIF, MP4, MP3,
            # PDF); CloudFront would not compress those types anyway.
            compress=False,
            # Public media may be read by any page (Access-Control-Allow-Origin: *, no
            # credentials: an <img> needs nothing, a fetch() or a canvas does).
            response_headers_policy=_response_headers(self),
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="Mediaport: public media",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                compress=False,
                function_associations=[
                    cloudfront.FunctionAssociation(
                        event_type=cloudfront.FunctionEventType.VIEWER_REQUEST,
                        function=cloudfront.Function(
                            self,
                            "NotFound",
                            comment="Mediaport: nothing is served outside the media prefixes",
                            code=cloudfront.FunctionCode.from_inline(NOT_FOUND_FUNCTION),
                            runtime=cloudfront.FunctionRuntime.JS_2_0,
                        ),
                    )
                ],
            ),
            additional_behaviors={f"{prefix}*": serving for prefix in SERVED_PREFIXES},
            price_class=CDN_PRICE_CLASS,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            enable_logging=True,
            log_bucket=self.log_bucket,
            log_file_prefix=names.CDN_LOG_PREFIX,
            log_includes_cookies=False,
        )
        # The origin was given a reference to the bucket, so CDK could not add its own,
        # broader statement (every object); this is the statement instead.
        Annotations.of(self.distribution).acknowledge_warning(
            "@aws-cdk/aws-cloudfront-origins:updateImportedBucketPolicyOac",
            "The bucket policy statement for the distribution is added by MediaCdn itself.",
        )
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCdnReadingServedMedia",
                principals=[iam.ServicePrincipal(CLOUDFRONT_PRINCIPAL)],
                actions=["s3:GetObject"],
                resources=[bucket.arn_for_objects(f"{prefix}*") for prefix in SERVED_PREFIXES],
                conditions={
                    "StringEquals": {
                        "AWS:SourceArn": self.distribution.distribution_arn,
                        f"s3:ExistingObjectTag/{CDN_TAG_KEY}": CDN_TAG_VALUE,
                    }
                },
            )
        )
        self._acknowledge_distribution()

        # Each new log file, once: counted per owner by count_bandwidth.
        self.log_dead_letters = dead_letter_queue(self, "FailedLogFiles")
        self.log_queue = sqs.Queue(
            self,
            "LogFiles",
            visibility_timeout=Duration.seconds(
                VISIBILITY_TIMEOUT_FACTOR * int(counter_timeout.to_seconds())
            ),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.log_dead_letters, max_receive_count=BANDWIDTH_MAX_RECEIVE_COUNT
            ),
        )
        self.log_bucket.add_event_notification(
            s3.EventType.OBJECT_CREATED,
            s3n.SqsDestination(self.log_queue),
            s3.NotificationKeyFilter(prefix=names.CDN_LOG_PREFIX, suffix=LOG_FILE_SUFFIX),
        )

    @property
    def base_url(self) -> str:
        """What a public asset's cdnUrl starts with (no trailing slash)."""
        return f"https://{self.distribution.distribution_domain_name}"

    def feed(self, counter: lambda_.Function) -> None:
        """Deliver each new log file to ``counter``, which reports the ones that failed."""
        counter.add_event_source(
            event_sources.SqsEventSource(
                self.log_queue,
                batch_size=BANDWIDTH_BATCH_SIZE,
                report_batch_item_failures=True,
            )
        )

    def _acknowledge_distribution(self) -> None:
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR1",
            "Public media is served wherever the host app's users are; a geo restriction "
            "is the host app's business decision, not a default (add one per deployment).",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR2",
            "No WAF web ACL by default: it costs $5/month plus per rule and per request, and "
            "the distribution serves only GETs of tagged objects at unguessable keys (no "
            "forms, no API); attach one per deployment if abuse is a concern.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR4",
            "The distribution serves on its own *.cloudfront.net name with CloudFront's "
            "default certificate, whose minimum TLS version cannot be chosen; a custom "
            "domain with an ACM certificate (and TLSv1.2_2021) is a per-deployment choice.",
        )


def _response_headers(scope: Construct) -> cloudfront.ResponseHeadersPolicy:
    """CloudFront's CORS-for-all and security headers (nosniff above all, so an object is
    served as the type it was verified to be), plus ``Cache-Control`` for what carries
    none: an original (a variant carries its own, year-long one, which is kept)."""
    return cloudfront.ResponseHeadersPolicy(
        scope,
        "MediaHeaders",
        comment="Mediaport: CORS, security headers, originals' Cache-Control",
        cors_behavior=cloudfront.ResponseHeadersCorsBehavior(
            access_control_allow_credentials=False,
            access_control_allow_headers=["*"],
            access_control_allow_methods=["GET", "HEAD"],
            access_control_allow_origins=["*"],
            origin_override=True,
        ),
        security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
            content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
            frame_options=cloudfront.ResponseHeadersFrameOptions(
                frame_option=cloudfront.HeadersFrameOption.SAMEORIGIN, override=True
            ),
            referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
                override=True,
            ),
            strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                access_control_max_age=Duration.days(365),
                include_subdomains=False,
                override=True,
            ),
        ),
        custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(
            custom_headers=[
                cloudfront.ResponseCustomHeader(
                    header="Cache-Control", value=names.ORIGINAL_CACHE_CONTROL, override=False
                )
            ]
        ),
    )
