"""The file system the static assets (/static/…) are served from, and the site icon at the address browsers ask for
on their own (/favicon.ico): without it every first visit logged a 404."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any, Final

from litestar import Controller, Response, get
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


ICON: Final = Path(__file__).parent / "static" / "web" / "favicon.ico"
_ICON_BYTES: Final = ICON.read_bytes()


class FaviconController(Controller):
    include_in_schema = False

    @get("/favicon.ico", opt={"public": True, "exclude_from_auth": True}, media_type="image/x-icon")
    async def favicon(self) -> Response[bytes]:
        return Response(_ICON_BYTES, media_type="image/x-icon", headers={"Cache-Control": "public, max-age=86400"})
