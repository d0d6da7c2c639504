"""The file system the static assets (/static/…) are served from."""

from __future__ import annotations

import errno
from typing import Any

from litestar.file_system import BaseLocalFileSystem
from litestar.types import PathType
from litestar.types.file_types import FileInfo


class AssetFiles(BaseLocalFileSystem):
    """The local directory, where a name the file system cannot even hold (ENAMETOOLONG) names no asset: a 404,
    not the 500 Litestar makes of any other OSError."""

    async def info(self, path: PathType, **kwargs: Any) -> FileInfo:
        try:
            return await super().info(path, **kwargs)
        except OSError as error:
            if error.errno == errno.ENAMETOOLONG:
                raise FileNotFoundError(errno.ENOENT, "no such asset", str(path)) from None
            raise
