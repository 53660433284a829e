"""MkDocs hook, listed under ``hooks:`` in mkdocs.yml: the KB's tables from ``intake.rules``.

Alone in its folder on purpose: MkDocs puts this folder on ``sys.path`` while loading the
file, and sibling modules could shadow others. The work is in ``intake/kb_tables.py``.
"""

from intake.kb_tables import on_page_markdown  # noqa: F401 - the MkDocs event
