"""The private-media storage on the local disk (STORAGES["private_media"] by default; README "Settings").

Django's FileSystemStorage writes a file under its final name as it goes (os.open with O_EXCL, then chunk by
chunk), so a worker killed mid-write leaves half a photo there, and a reader may see one being written. This one
writes under a temporary name beside it, fsyncs, and links it into place: readers see no file or the whole file.
Like Django's, it never replaces an existing file (os.link refuses an existing name, as O_EXCL does): a taken name
gets another from get_available_name. Object stores need none of this: a PUT is seen whole or not at all.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.files.storage import FileSystemStorage


class WholeFileSystemStorage(FileSystemStorage):
    """A FileSystemStorage whose files appear whole or not at all, and which has no public URL."""

    def _save(self, name: str, content: File[Any]) -> str:
        target = Path(self.path(name))
        target.parent.mkdir(parents=True, exist_ok=True, mode=self.directory_permissions_mode or 0o777)
        for leftover in target.parent.glob(f".{target.name}.*.tmp"):  # of a worker killed while writing this name
            leftover.unlink(missing_ok=True)
        temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, self.file_permissions_mode or 0o666)
        try:
            with os.fdopen(fd, "wb") as handle:
                for chunk in content.chunks():
                    handle.write(chunk if isinstance(chunk, bytes) else chunk.encode())
                handle.flush()
                os.fsync(handle.fileno())
            if self.file_permissions_mode is not None:
                os.chmod(temporary, self.file_permissions_mode)  # os.open's mode is cut by the umask
            while True:
                try:
                    os.link(temporary, target)
                    break
                except FileExistsError:
                    name = self.get_available_name(name)
                    target = Path(self.path(name))
        finally:
            temporary.unlink(missing_ok=True)
        return os.path.relpath(target, self.location).replace("\\", "/")

    def url(self, name: str | None) -> str:
        raise NotImplementedError("Private media have no URL: they are served only through a permission check.")
