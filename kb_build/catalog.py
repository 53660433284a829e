"""The KB's fixed vocabularies (categories, services, generic titles), read from ``data/catalog.yaml``.

The data file is the one place where they are listed; everything else asks this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from .text import fold

CATALOG_FILE = Path(__file__).parent / "data" / "catalog.yaml"


@dataclass(frozen=True)
class Category:
    slug: str
    label: str
    description: str


@dataclass(frozen=True)
class Service:
    slug: str
    label: str
    group: str


@dataclass(frozen=True)
class Catalog:
    categories: dict[str, Category]
    services: dict[str, Service]
    generic_titles: frozenset[str]

    def is_generic_title(self, title: str) -> bool:
        """True for titles such as ``"FAQ"`` or ``"Nuovo articolo"`` (ignoring case and accents)."""
        return fold(title) in self.generic_titles


class CatalogError(Exception):
    """The catalog data file itself is malformed."""


@lru_cache(maxsize=None)
def load_catalog(path: Path = CATALOG_FILE) -> Catalog:
    """Read and validate the catalog file once per process."""
    where = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"{where}: cannot read the catalog: {exc}") from exc
    if not isinstance(data, dict):
        raise CatalogError(f"{where}: expected a mapping with 'categories', 'services', 'generic_titles'")
    try:
        categories = {
            slug: Category(slug, str(entry["label"]), str(entry.get("description", "")))
            for slug, entry in data["categories"].items()
        }
        services = {
            slug: Service(slug, str(entry["label"]), str(entry.get("group", "")))
            for slug, entry in data["services"].items()
        }
        generic = frozenset(fold(t) for t in data.get("generic_titles", []))
    except (KeyError, TypeError, AttributeError) as exc:
        raise CatalogError(
            f"{where}: every category and service needs a 'label' (problem near {exc!r})"
        ) from exc
    return Catalog(categories, services, generic)
