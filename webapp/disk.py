"""Files the app writes itself (the instance key, backups), made to survive a power cut."""

from __future__ import annotations

import os
from pathlib import Path


def flush(path: Path) -> None:
    """Put a file's bytes, or a folder's entries (a link or a rename in it), on disk now."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
