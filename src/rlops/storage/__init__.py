"""Where artifacts live and how they are moved: URIs, atomic writes and archives.

Used by the SDK, the runtime, the toolkits, policies and serving alike, so it knows only the
standard library and :mod:`rlops.exceptions`:

- :mod:`rlops.storage.uris`: what a path or URI names (``file://`` and plain paths);
- :mod:`rlops.storage.atomic`: writes that a reader never sees half done;
- :mod:`rlops.storage.archives`: ``.tar.gz`` archives packed atomically and unpacked safely.
"""

from rlops.storage.archives import UnreadableArchive, UnsafeArchive, is_archive, pack, unpack
from rlops.storage.atomic import atomic_path, copy_file, write_text
from rlops.storage.uris import SUPPORTED, resolve_uri, to_uri

__all__ = ["SUPPORTED", "UnreadableArchive", "UnsafeArchive", "atomic_path", "copy_file", "is_archive", "pack", "resolve_uri", "to_uri",
           "unpack", "write_text"]
