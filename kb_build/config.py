"""Where things are: read once from ``mkdocs.yml`` for the ``kb`` commands.

The MkDocs plugin gets the same values from MkDocs itself; this module lets ``kb check``
and ``kb import`` run without starting a MkDocs build.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

DEFAULT_INDEX_DIR = "build/kb-index"


class ConfigError(Exception):
    """mkdocs.yml is missing or says something we cannot use."""


class _TolerantLoader(yaml.SafeLoader):
    """Safe loader that reads MkDocs' ``!!python/name:`` and ``!ENV`` tags as plain values."""


def _any_tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


_TolerantLoader.add_multi_constructor("!", _any_tag)
_TolerantLoader.add_multi_constructor("tag:yaml.org,2002:python/", _any_tag)


@dataclass(frozen=True)
class ProjectConfig:
    config_file: Path
    docs_dir: Path
    site_dir: Path
    index_dir: Path
    forms_dir: Path | None

    @property
    def root(self) -> Path:
        return self.config_file.parent

    def ticket_forms(self) -> frozenset[str] | None:
        """Names of the intake's request types (``intake/forms/<name>.yaml``), if configured."""
        if self.forms_dir is None:
            return None
        return frozenset(p.stem for p in self.forms_dir.glob("*.yaml"))


def kb_plugin_options(plugins) -> dict | None:
    """The options of our ``kb`` plugin in a raw ``plugins:`` list, or None when it is absent."""
    for entry in plugins or []:
        if entry == "kb":
            return {}
        if isinstance(entry, dict) and "kb" in entry:
            return entry["kb"] or {}
    return None


def load_project(config_file: str | Path = "mkdocs.yml") -> ProjectConfig:
    path = Path(config_file).resolve()
    if not path.exists():
        raise ConfigError(f"{config_file}: not found; run the command from the project folder or pass --config")
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_TolerantLoader) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{config_file}: not valid YAML: {exc}") from exc
    root = path.parent
    options = kb_plugin_options(raw.get("plugins")) or {}
    forms = options.get("forms_dir")
    forms_dir = (root / forms) if forms else None
    if forms_dir is not None and not forms_dir.is_dir():
        raise ConfigError(
            f"{config_file}: plugins.kb.forms_dir '{forms}' is not a folder; fix the path or remove the option"
        )
    return ProjectConfig(
        config_file=path,
        docs_dir=root / raw.get("docs_dir", "docs"),
        site_dir=root / raw.get("site_dir", "site"),
        index_dir=root / options.get("index_dir", DEFAULT_INDEX_DIR),
        forms_dir=forms_dir,
    )
