"""What a use case works with, built at the edge from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from mediaport.adapters.tables import AssetTable
from mediaport.config import Settings, get_settings


@dataclass(frozen=True)
class Services:
    settings: Settings
    assets: AssetTable


def services_for(settings: Settings) -> Services:
    return Services(settings=settings, assets=AssetTable(settings.table_name, settings.region))


def current_services() -> Services:
    """The services of this process's settings (read once per cold start)."""
    return services_for(get_settings())
