"""The store: a git repository in ``.mlvc/`` written with dulwich (see docs/storage.md)."""

from .repo import STORE_DIR, Store, find_root

__all__ = ["STORE_DIR", "Store", "find_root"]
