"""The search index written by a separate process, while MkDocs renders the pages.

Both start from the articles checked in the plugin's ``on_pre_build``; writing the index
(pure-Python analysis and Whoosh's writer: about 20 s for 5,000 articles) and rendering
the site (about as long) are each single-threaded, so on two cores they take the time of
the longer one instead of the sum. The plugin starts an :class:`IndexJob` in
``on_pre_build`` and waits for it in ``on_post_build``.

The child (:mod:`kb_build.children`) gets the index documents
(:func:`kb_build.index.raw_fields`) pickled on its standard input, writes the index into a
staging folder and exits 0; on failure it prints the :class:`~kb_build.index.IndexBuildError`
message and exits 1.
"""

from __future__ import annotations

import pickle
import shutil
import sys
from pathlib import Path

from .analysis import SYNONYMS_FILE
from .children import Child, start_child
from .index import IndexBuildError


class IndexJob:
    """A full index build running in a child process, into ``target``, from raw documents
    (:func:`kb_build.index.raw_fields`: bodies in Markdown, turned into plain text there)."""

    def __init__(self, documents: list[dict], target: Path, final: Path, synonyms_file: Path = SYNONYMS_FILE):
        self.target = Path(target)
        shutil.rmtree(self.target, ignore_errors=True)
        self.target.parent.mkdir(parents=True, exist_ok=True)
        payload = pickle.dumps(documents, protocol=pickle.HIGHEST_PROTOCOL)
        self.child = Child("kb_build.indexer", [str(self.target), str(final), str(synonyms_file)], payload)

    def wait(self) -> Path:
        """Wait for the child; the folder written, or :class:`IndexBuildError`."""
        code, _out, message = self.child.wait()
        if code != 0:
            shutil.rmtree(self.target, ignore_errors=True)
            raise IndexBuildError(message.strip() or f"the index build process ended with status {code}")
        return self.target

    def cancel(self) -> None:
        """Stop the child (a build that failed elsewhere) and remove what it wrote."""
        self.child.kill()
        shutil.rmtree(self.target, ignore_errors=True)


def main(argv: list[str]) -> int:
    from .index import document_from_raw, write_documents, write_staged

    target, final, synonyms_file = Path(argv[0]), Path(argv[1]), Path(argv[2])
    raw = start_child(argv)
    documents = (document_from_raw(document) for document in raw)
    try:
        write_staged(lambda: write_documents(documents, target, synonyms_file), target, final)
    except IndexBuildError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
