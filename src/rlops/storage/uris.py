"""What a path or URI names: ``file://`` URIs and plain paths, resolved to absolute local paths.

Every place that takes a location from a user (``output_path``, ``checkpoint_s3_uri``, channels,
``model_data``, ``source_dir``) resolves it here, so a new scheme is added in one place.

>>> resolve_uri("file:///tmp/data")
PosixPath('/tmp/data')
>>> to_uri(resolve_uri("/tmp/data"))
'file:///tmp/data'
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from rlops.exceptions import UsageError

SUPPORTED = "a local path or a file:// URI"


def resolve_uri(uri: str | os.PathLike, what: str = "path") -> Path:
    """The absolute local path that ``uri`` names; ``what`` names it in the error for another scheme."""
    text = os.fspath(uri)
    parsed = urlparse(text)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path)).resolve()
    if parsed.scheme and len(parsed.scheme) > 1:  # one letter would be a Windows drive
        raise UsageError(
            f"The {what} {text!r} uses the {parsed.scheme}:// scheme, which rlops cannot read or write here. "
            f"Use {SUPPORTED} (copy remote data to a local folder first)."
        )
    return Path(text).expanduser().resolve()


def to_uri(path: Path) -> str:
    """The ``file://`` URI of a local path, as jobs report their artifacts."""
    return Path(path).resolve().as_uri()
