"""``kb import``: the provider's legacy WordPress text export -> Markdown articles (SPEC K1).

The export is plain text pasted from the old site. What it looks like, and what we make of it:

* Articles are concatenated. A title is an unindented line with a blank line before and
  after, no closing punctuation other than ``?``, and followed by prose (a line followed
  by a list, such as ``Metodo B`` or ``Vantaggi del ticket system``, is a section).
* Section lines inside an article become headings: ALL-CAPS lines (``INTERVENTI IN FASCIA
  ORDINARIA (...)``), short labels ending in ``:`` (``NOTE:``, ``tariffe:``), and title-like
  lines followed by a list.
* ``  •`` bullets with continuation lines indented by 4 spaces become list items whose
  continuation lines stay inside the item; ``–`` notes become a nested list.
* ``[box]...[/box]`` and ``[box type=”info”]...[/box]`` become Material admonitions.
* Lines with columns aligned by runs of spaces (the tariffs) become tables.
* Bare URLs, host names with a path or sub-domain, and e-mail addresses become links.
* Words, typos and typographic characters are kept; only the markup changes.

The import is deterministic: the same exports give byte-identical files. A manifest
(``docs/.kb-import.json``, hidden from the site) remembers what each file looked like
when it was written, so a file a writer has edited since is never overwritten unless
``force`` is set.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .text import display_path, fold, slugify

MANIFEST_NAME = ".kb-import.json"
NBSP = "\u00a0"
BULLET = "•"
DASHES = "–—"

# Category of an imported article, from words of its title (first match wins).
CATEGORY_RULES: tuple[tuple[str, str], ...] = (
    ("rubalo", "rubalo"),
    ("email", "email"),
    ("posta", "email"),
    ("server dedicat", "server-dedicati"),
    ("colocation", "server-dedicati"),
    ("vps", "server-dedicati"),
    ("domini", "domini"),
    ("hosting", "hosting"),
)
DEFAULT_CATEGORY = "assistenza"

# WordPress [box] types -> Material admonition types.
BOX_TYPES = {
    None: "note",
    "info": "info",
    "note": "note",
    "warning": "warning",
    "alert": "danger",
    "error": "danger",
    "success": "success",
    "tip": "tip",
    "download": "abstract",
}

_SHORTCODE = re.compile(r"\[(/?)([a-z_]+)((?:\s+[a-z_]+\s*=\s*[\"“”'′]?[^\]\"“”'′]*[\"“”'′]?)*)\s*\]")
_BOX_TYPE = re.compile(r"type\s*=\s*[\"“”'′]?([a-z_]+)")
_COLUMNS = re.compile(r"\S(?: {3,})\S")
_LABEL_MAX_WORDS = 3
_TITLE_MAX = 120


class ImportProblem(Exception):
    """A malformed export: names the file and the line."""

    def __init__(self, path: Path, line: int, message: str):
        self.path, self.line, self.message = path, line, message
        super().__init__(f"{display_path(path)}:{line}: {message}")


@dataclass
class RawArticle:
    title: str
    source: Path
    line: int  # line of the title in the export
    body: list[tuple[int, str]] = field(default_factory=list)  # (line number, text)

    @property
    def fingerprint(self) -> str:
        """Body text with spacing normalised, to recognise repeated articles."""
        return " ".join(" ".join(text.split()) for _, text in self.body if text.strip())


@dataclass
class ImportedArticle:
    rel_path: str  # e.g. "email/come-richiedere-assistenza-per-i-servizi-email.md"
    title: str
    origin: str  # "000_x.txt:54"
    content: str


@dataclass
class ImportReport:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept_edited: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------
# Reading the export


def read_export(path: Path) -> list[str]:
    """The export's lines, decoded and with typographic spacing normalised.

    Non-breaking spaces become plain spaces and trailing spaces are dropped: they were
    layout, not words.
    """
    data = path.read_bytes()
    if not data.strip():
        raise ImportProblem(path, 1, "empty export: no articles found")
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise ImportProblem(path, line, "binary data (NUL byte): this is not a text export")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ImportProblem(
            path,
            line,
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at column {column}): "
            "export the file again as UTF-8",
        ) from None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return [line.replace(NBSP, " ").rstrip() for line in text.split("\n")]


def _is_blank(lines: list[str], i: int) -> bool:
    return i < 0 or i >= len(lines) or not lines[i].strip()


def _next_content(lines: list[str], i: int) -> str | None:
    for j in range(i + 1, len(lines)):
        if lines[j].strip():
            return lines[j]
    return None


def _is_list_line(line: str) -> bool:
    stripped = line.lstrip()
    return stripped.startswith(BULLET) or stripped[:1] in DASHES or line.startswith("    ")


def _is_all_caps(line: str) -> bool:
    head = line.split("(")[0]
    letters = [c for c in head if c.isalpha()]
    return len(letters) >= 6 and all(c.isupper() for c in letters) and len(head.split()) >= 2


def _is_title(lines: list[str], i: int) -> bool:
    line = lines[i]
    if not line.strip() or line[0].isspace() or line[0] in "[" + BULLET + DASHES:
        return False
    if not (_is_blank(lines, i - 1) and _is_blank(lines, i + 1)):
        return False
    if len(line) > _TITLE_MAX or line.rstrip()[-1] in ".:;,!)" or _is_all_caps(line):
        return False
    if _COLUMNS.search(line):
        return False
    following = _next_content(lines, i)
    return following is None or not _is_list_line(following)


def split_articles(path: Path, lines: list[str]) -> list[RawArticle]:
    """Cut the export into articles at their title lines."""
    articles: list[RawArticle] = []
    for i, line in enumerate(lines):
        if _is_title(lines, i):
            articles.append(RawArticle(" ".join(line.split()), path, i + 1))
        elif articles:
            articles[-1].body.append((i + 1, line))
        elif line.strip():
            raise ImportProblem(
                path,
                i + 1,
                "text before the first article title: the export must start with a title line "
                "followed by a blank line",
            )
    if not articles:
        raise ImportProblem(path, 1, "no article title found (a title is a line alone between blank lines)")
    for article in articles:
        if not article.fingerprint:
            raise ImportProblem(path, article.line, f"article '{article.title}' has no text")
    return articles


# ---------------------------------------------------------------------------
# Inline text: escaping and links

_LINKABLE = re.compile(
    r"(?P<email>[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)"
    r"|(?P<url>https?://[^\s<>\"“”]+)"
    r"|(?P<host>\b(?:[a-z0-9-]+\.){2,}[a-z]{2,}(?:/[^\s<>\"“”]*)?"
    r"|\b[a-z0-9-]+\.[a-z]{2,}/[^\s<>\"“”]+)"
)
_TRAILING = ".,;:!?)’”"
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")


def _escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def inline(text: str) -> str:
    """One line of export text as Markdown: spacing collapsed, specials escaped, links made."""
    text = " ".join(text.split())
    out: list[str] = []
    pos = 0
    for match in _LINKABLE.finditer(text):
        found = match.group(0)
        trimmed = found.rstrip(_TRAILING)
        # keep a closing parenthesis that belongs to the URL itself
        if found.endswith(")") and trimmed.count("(") > trimmed.count(")"):
            trimmed += ")"
        end = match.start() + len(trimmed)
        out.append(_escape(text[pos : match.start()]))
        if match.group("email"):
            out.append(f"[{trimmed}](mailto:{trimmed})")
        elif match.group("url"):
            out.append(f"<{trimmed}>")
        else:
            out.append(f"[{_escape(trimmed)}](https://{trimmed})")
        pos = end
    out.append(_escape(text[pos:]))
    result = "".join(out)
    # A line that would start a Markdown block (heading, quote, list, numbered list).
    if re.match(r"^(#|>|[-+] |\d+[.)] )", result):
        result = "\\" + result
    return result


# ---------------------------------------------------------------------------
# Body -> Markdown blocks


def _strip_dash(text: str) -> str:
    return text.lstrip().lstrip(DASHES).strip()


def _table_cells(line: str) -> list[str]:
    cells = [c for c in re.split(r" {3,}", line.strip()) if c]
    if cells and cells[0] in DASHES:  # "–   ogni ora successiva ..."
        cells = cells[1:]
    if cells:
        cells[0] = _strip_dash(cells[0]) if cells[0][:1] in DASHES else cells[0]
    return cells


def _render_table(rows: list[list[str]]) -> list[str]:
    """Space-aligned columns as a Markdown table; the amount goes in the last column."""
    width = max(len(r) for r in rows)
    priced = all("€" in r[-1] for r in rows)
    if priced:
        header = ["Voce", "Durata", "Tariffa"] if width >= 3 else ["Voce", "Tariffa"]
        header = header[:1] + [""] * (width - len(header)) + header[1:] if width > 3 else header
        body = [r[:-1] + [""] * (width - len(r)) + r[-1:] for r in rows]
    else:
        header, body = rows[0] + [""] * (width - len(rows[0])), [r + [""] * (width - len(r)) for r in rows[1:]]
    lines = ["| " + " | ".join(inline(c) for c in header) + " |", "|" + " --- |" * width]
    lines += ["| " + " | ".join(inline(c) for c in row) + " |" for row in body]
    return lines


class _BodyWriter:
    """Turns an article's export lines into Markdown, one block at a time."""

    def __init__(self, article: RawArticle):
        self.article = article
        self.lines = article.body
        self.blocks: list[list[str]] = []
        self.in_caps_section = False

    def problem(self, line: int, message: str) -> ImportProblem:
        return ImportProblem(self.article.source, line, message)

    def render(self) -> str:
        i = 0
        while i < len(self.lines):
            number, line = self.lines[i]
            if not line.strip():
                i += 1
            elif self._shortcode(line):
                i = self._box(i)
            elif _COLUMNS.search(line) and _table_cells(line):
                i = self._table(i)
            elif line.lstrip().startswith(BULLET) or (line[:1] in DASHES):
                i = self._list(i)
            elif self._is_heading(i):
                self._heading(line)
                i += 1
            else:
                self.blocks.append([inline(line)])
                i += 1
        return "\n\n".join("\n".join(block) for block in self.blocks) + "\n"

    # headings
    def _is_heading(self, i: int) -> bool:
        _, line = self.lines[i]
        if line[:1].isspace():
            return False
        if _is_all_caps(line):
            return True
        words = line.split()
        following = next((l for _, l in self.lines[i + 1 :] if l.strip()), None)
        if line.endswith(":") and len(words) <= _LABEL_MAX_WORDS:
            return True
        before_blank = i == 0 or not self.lines[i - 1][1].strip()
        return (
            before_blank
            and len(words) <= 6
            and line[-1] not in ".:;,!?)"
            and following is not None
            and _is_list_line(following)
        )

    def _heading(self, line: str) -> None:
        text = " ".join(line.split()).rstrip(":").rstrip()
        if _is_all_caps(line):
            self.in_caps_section = True
            level = "##"
        else:
            level = "###" if self.in_caps_section else "##"
        self.blocks.append([f"{level} {inline(text)}"])

    # [box] shortcodes
    def _shortcode(self, line: str) -> re.Match | None:
        """A WordPress shortcode: ``[box]``, or ``[name attr=...]``, or ``[name]`` closed later.

        A bracketed word in prose, such as ``[sic]``, is left alone.
        """
        for match in _SHORTCODE.finditer(line):
            name = match.group(2)
            if name == "box" or match.group(3).strip():
                return match
            if any(f"[/{name}]" in text for _, text in self.lines):
                return match
        return None

    def _box(self, i: int) -> int:
        start_number, line = self.lines[i]
        opening = self._shortcode(line)
        closing, name, attrs = opening.group(1), opening.group(2), opening.group(3)
        if closing:
            raise self.problem(start_number, f"'{opening.group(0)}' without a matching opening '[{name}]'")
        if name != "box":
            raise self.problem(
                start_number,
                f"unknown shortcode '{opening.group(0)}' (allowed: [box]...[/box], [box type=”info”]...[/box]); "
                "edit the export or ask a developer to support it",
            )
        if line[: opening.start()].strip():
            raise self.problem(start_number, "text before '[box]' on the same line: put the box on its own line")
        kind = _BOX_TYPE.search(attrs)
        box_type = kind.group(1) if kind else None
        if box_type not in BOX_TYPES:
            allowed = ", ".join(sorted(t for t in BOX_TYPES if t))
            raise self.problem(start_number, f"unknown box type '{box_type}' (allowed: {allowed})")
        content: list[str] = []
        rest = line[opening.end() :]
        j = i
        while True:
            end = rest.find("[/box]")
            if end >= 0:
                content.append(rest[:end])
                if rest[end + len("[/box]") :].strip():
                    raise self.problem(self.lines[j][0], "text after '[/box]' on the same line: start a new line")
                break
            content.append(rest)
            j += 1
            if j >= len(self.lines):
                raise self.problem(start_number, "'[box]' is never closed: add '[/box]' where the box ends")
            rest = self.lines[j][1]
            inner = _SHORTCODE.search(rest)
            if inner and inner.group(2) == "box" and not inner.group(1):
                raise self.problem(
                    self.lines[j][0], f"a new '[box]' starts before the one of line {start_number} is closed"
                )
        paragraphs = [inline(c) for c in content if c.strip()]
        if not paragraphs:
            raise self.problem(start_number, "empty '[box]': remove it or write its text")
        block = [f'!!! {BOX_TYPES[box_type]} ""', ""]
        for k, paragraph in enumerate(paragraphs):
            if k:
                block.append("")
            block.append("    " + paragraph)
        self.blocks.append(block)
        return j + 1

    # tables
    def _table(self, i: int) -> int:
        """Rows with space-aligned columns; single blank lines separate groups of rows.

        Inside a group, a row with fewer columns right after a full row continues it:
        ``– ogni ora successiva (o frazione)   € 50,00`` under ``– sistemista junior   prime
        2h   € 150,00`` is the junior's next hour, so it repeats the junior's label.
        """
        rows: list[list[str]] = []
        group_head: list[str] | None = None
        j = i
        while j < len(self.lines):
            _, line = self.lines[j]
            if line.strip() and _COLUMNS.search(line):
                cells = _table_cells(line)
                if group_head and len(cells) < len(group_head):
                    cells = group_head[:1] + cells
                else:
                    group_head = cells
                rows.append(cells)
                j += 1
            elif not line.strip() and j + 1 < len(self.lines) and _COLUMNS.search(self.lines[j + 1][1]):
                group_head = None
                j += 1  # one blank line between groups of rows (junior / senior)
            else:
                break
        self.blocks.append(_render_table(rows))
        return j

    # lists
    def _list(self, i: int) -> int:
        """A run of bullets (or dash lines) with their continuation lines."""
        items: list[list[str]] = []  # each: markdown lines of one item
        j = i
        marker_dash = self.lines[i][1][:1] in DASHES
        while j < len(self.lines):
            _, line = self.lines[j]
            stripped = line.lstrip()
            starts_item = stripped.startswith(BULLET) if not marker_dash else line[:1] in DASHES
            if starts_item and not (marker_dash and _COLUMNS.search(line)):
                text = stripped[1:] if not marker_dash else _strip_dash(line)
                items.append([f"- {inline(text)}"])
                j += 1
            elif items and line.startswith("  ") and stripped:
                j = self._continuation(items[-1], j)
            else:
                break
        # Python-Markdown reads an item that follows indented paragraphs without a blank
        # line as more text of those paragraphs: a list with continuations is written loose.
        loose = any(len(item) > 1 for item in items)
        block: list[str] = []
        for k, item in enumerate(items):
            if loose and k:
                block.append("")
            block.extend(item)
        self.blocks.append(block)
        return j

    def _continuation(self, item: list[str], j: int) -> int:
        """Indented lines under a bullet: paragraphs of the item, ``–`` lines as a nested list."""
        previous_nested = False
        while j < len(self.lines):
            _, line = self.lines[j]
            stripped = line.lstrip()
            if not stripped or not line.startswith("  ") or stripped.startswith(BULLET):
                break
            if stripped[:1] in DASHES:
                if not previous_nested:
                    item.append("")
                item.append(f"    - {inline(_strip_dash(stripped))}")
                previous_nested = True
            else:
                item.extend(["", f"    {inline(stripped)}"])
                previous_nested = False
            j += 1
        return j


# ---------------------------------------------------------------------------
# Articles -> files


def category_for(title: str) -> str:
    folded = fold(title)
    for words, category in CATEGORY_RULES:
        if words in folded:
            return category
    return DEFAULT_CATEGORY


def _summary(article: RawArticle) -> str:
    """First sentence of the first paragraph, at most 160 characters: a draft for the writer."""
    for _, line in article.body:
        text = _SHORTCODE.sub("", line).strip()
        if not text or line[:1].isspace() or line.lstrip()[:1] in BULLET + DASHES:
            continue
        text = " ".join(text.split())
        sentence = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
        if len(sentence) <= 160:
            return sentence
        cut = sentence[:159].rsplit(" ", 1)[0].rstrip(",;:")
        return cut + "…"
    return article.title


# Function words left out of file names: "Cos’è un “ticket di assistenza” e come aprirlo?"
# gives "cos-ticket-assistenza-come-aprirlo.md", short enough to read in an address bar.
SLUG_STOPWORDS = frozenset(
    "il lo la i gli le l un uno una un di a da in con su per tra fra e ed o d del dello della dei degli "
    "delle al allo alla ai agli alle dal dallo dalla dai dagli dalle nel nello nella nei negli nelle "
    "sul sullo sulla sui sugli sulle".split()
)


def article_slug(title: str) -> str:
    words = [w for w in fold(title).split() if w not in SLUG_STOPWORDS]
    return slugify(" ".join(words) or title)


def to_markdown(article: RawArticle) -> ImportedArticle:
    category = category_for(article.title)
    slug = article_slug(article.title)
    meta = {
        "title": article.title,
        "summary": _summary(article),
        "category": category,
        "services": [],
        "tags": [],
    }
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=10_000, default_flow_style=None)
    body = _BodyWriter(article).render()
    origin = f"{article.source.name}:{article.line}"
    return ImportedArticle(f"{category}/{slug}.md", article.title, origin, f"---\n{front}---\n\n{body}")


def convert(paths: list[Path]) -> tuple[list[ImportedArticle], list[str]]:
    """Parse every export fully (raising :class:`ImportProblem` on the first bad one).

    Returns the articles to write and one message per repeated article that was dropped.
    An article repeated with the same text (or a shorter copy of it) is a duplicate; the
    longer copy is kept. The same title with different text is an error: nothing is guessed.
    """
    kept: dict[str, RawArticle] = {}
    order: list[str] = []
    skipped: list[str] = []
    for path in paths:
        for raw in split_articles(path, read_export(path)):
            key = fold(raw.title)
            first = kept.get(key)
            if first is None:
                kept[key] = raw
                order.append(key)
                continue
            a, b = first.fingerprint, raw.fingerprint
            where = f"{display_path(raw.source)}:{raw.line}"
            earlier = f"{display_path(first.source)}:{first.line}"
            if a.startswith(b):
                skipped.append(f"skipped duplicate: '{raw.title}' at {where} (same as {earlier})")
            elif b.startswith(a):
                kept[key] = raw
                skipped.append(f"skipped duplicate: '{first.title}' at {earlier} (shorter copy of {where})")
            else:
                raise ImportProblem(
                    raw.source,
                    raw.line,
                    f"article '{raw.title}' appears again with different text (first at {earlier}): "
                    "rename one of them or merge them in the export",
                )
    converted = [to_markdown(kept[key]) for key in order]
    seen: dict[str, ImportedArticle] = {}
    for article in converted:
        other = seen.setdefault(article.rel_path, article)
        if other is not article:
            raise ImportProblem(
                Path(article.origin.split(":")[0]),
                int(article.origin.split(":")[1]),
                f"'{article.title}' and '{other.title}' give the same file name {article.rel_path}: "
                "change one of the titles",
            )
    return converted, skipped


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def import_exports(paths: list[Path], docs_dir: Path, force: bool = False) -> ImportReport:
    """Convert the exports and write the articles under ``docs_dir``.

    Every export is parsed before anything is written, so a malformed export leaves
    ``docs_dir`` untouched. A file edited by a writer since the last import (its content
    differs from what the manifest remembers, or the manifest never wrote it) is kept
    unless ``force`` is set.
    """
    articles, skipped = convert(paths)
    report = ImportReport(duplicates=skipped)
    manifest_path = docs_dir / MANIFEST_NAME
    manifest = _read_manifest(manifest_path)
    for article in articles:
        target = docs_dir / article.rel_path
        data = article.content.encode("utf-8")
        shown = display_path(target)
        if target.exists():
            current = target.read_bytes()
            if current == data:
                report.unchanged.append(shown)
                manifest[article.rel_path] = {"sha256": _digest(data), "origin": article.origin}
                continue
            if not force and manifest.get(article.rel_path, {}).get("sha256") != _digest(current):
                report.kept_edited.append(shown)
                continue
        _write_atomic(target, data)
        manifest[article.rel_path] = {"sha256": _digest(data), "origin": article.origin}
        report.written.append(shown)
    text = json.dumps({"version": 1, "files": dict(sorted(manifest.items()))}, indent=2, ensure_ascii=False)
    _write_atomic(manifest_path, (text + "\n").encode("utf-8"))
    return report


def _read_manifest(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")).get("files", {}))
    except (ValueError, AttributeError):
        # A damaged manifest only means we cannot prove a file is unedited: keep them all.
        return {}
