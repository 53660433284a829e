"""Build the support knowledge base: articles in ``docs/`` -> static site + Whoosh index."""

__version__ = "0.1.0"
