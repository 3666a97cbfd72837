"""Small JPEG thumbnails of image evidence, made one at a time into a temporary folder.

A phone photo is several megapixels: decoded in full it is ~18 MB of pixels, and WeasyPrint would
embed the original bytes. JPEGs are decoded at a reduced scale (`Image.draft`), everything is cut
to at most THUMBNAIL_MAX pixels a side and re-encoded, and only the path is kept, so memory holds
one image at a time however many photos a portfolio has.
"""

import logging
import uuid
from pathlib import Path

from django.core.files.storage import default_storage
from PIL import Image, ImageOps

from portfolio.report.tree import FileEntry

logger = logging.getLogger(__name__)

THUMBNAIL_MAX = 1000  # pixels, the longer side: ~300 dpi at the 8.5 cm the report prints them
JPEG_QUALITY = 80
# Formats without a reduced-scale decoder are decoded in full; refuse ones that would take >200 MB.
MAX_DECODED_PIXELS = 50_000_000


class ThumbnailStore:
    """Thumbnails of one portfolio's images, by file uuid; also what the URL fetcher may serve."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.paths: dict[uuid.UUID, Path] = {}
        self._failed: set[uuid.UUID] = set()

    def ensure(self, entry: FileEntry) -> Path | None:
        """The thumbnail of `entry`, made on first use; None if it is not an image Pillow can read."""
        if entry.uuid in self.paths:
            return self.paths[entry.uuid]
        if entry.uuid in self._failed or not entry.is_image:
            return None
        path = self.directory / f"{entry.uuid}.jpg"
        try:
            with default_storage.open(entry.storage_name, "rb") as source:
                make_thumbnail(source, path)
        except Exception:  # a broken or missing file loses its preview, not the whole report
            logger.warning("No thumbnail for file %s (%s)", entry.uuid, entry.storage_name, exc_info=True)
            self._failed.add(entry.uuid)
            path.unlink(missing_ok=True)
            return None
        self.paths[entry.uuid] = path
        return path


def make_thumbnail(source, target: Path) -> tuple[int, int]:
    """Write a JPEG of at most THUMBNAIL_MAX px a side from the image in `source`; return its size."""
    with Image.open(source) as image:
        image.draft("RGB", (THUMBNAIL_MAX, THUMBNAIL_MAX))  # JPEG only: decode at 1/2, 1/4 or 1/8 scale
        width, height = image.size
        if width * height > MAX_DECODED_PIXELS:
            raise ValueError(f"image too large to preview: {width} x {height}")
        image.thumbnail((THUMBNAIL_MAX, THUMBNAIL_MAX))
        # Phones store portrait photos sideways with an orientation tag; the re-encoded JPEG has no tags.
        small = ImageOps.exif_transpose(image)
        small = _flatten(small)
        small.save(target, "JPEG", quality=JPEG_QUALITY, optimize=True)
        return small.size


def _flatten(image: Image.Image) -> Image.Image:
    """RGB on white: JPEG has no transparency, and a transparent PNG would otherwise turn black."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB") if image.mode != "RGB" else image
