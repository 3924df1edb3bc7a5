"""What a use case works with, built at the edge from the settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mediaport.adapters.attachments import AttachmentTable
    from mediaport.adapters.folders import FolderTable
    from mediaport.adapters.sessions import SessionTable
    from mediaport.adapters.tables import AssetTable
    from mediaport.adapters.usage import UsageTable
    from mediaport.config import Settings


@dataclass(frozen=True)
class Services:
    settings: Settings
    assets: AssetTable
    usage: UsageTable
    folders: FolderTable
    # Only the functions given MEDIAPORT_SESSION_TABLE_NAME (uppy) have upload sessions.
    sessions: SessionTable | None = None
    # What is attached to which host-app thing: only the functions given
    # MEDIAPORT_ATTACHMENT_TABLE_NAME (media, attachments) have the attachment table.
    attachments: AttachmentTable | None = None


def services_for(settings: Settings) -> Services:
    # The table adapters (pynamodb, botocore) load with the first request, not at cold start.
    from mediaport.adapters.attachments import AttachmentTable
    from mediaport.adapters.folders import FolderTable
    from mediaport.adapters.sessions import SessionTable
    from mediaport.adapters.tables import AssetTable
    from mediaport.adapters.usage import UsageTable

    sessions = (
        SessionTable(settings.session_table_name, settings.region)
        if settings.session_table_name
        else None
    )
    usage = UsageTable(settings.usage_table_name, settings.region)
    folders = FolderTable(settings.folder_table_name, settings.region)
    attachments = (
        AttachmentTable(settings.attachment_table_name, settings.region)
        if settings.attachment_table_name
        else None
    )
    return Services(
        settings=settings,
        assets=AssetTable(settings.table_name, settings.region, usage, folders),
        usage=usage,
        folders=folders,
        sessions=sessions,
        attachments=attachments,
    )


def current_services() -> Services:
    """The services of this process's settings (read once per cold start)."""
    from mediaport.config import get_settings

    return services_for(get_settings())
