"""Screenshots a citizen attaches to a report: checked from their bytes, re-encoded, stripped.

Pure: no database, no web framework. The API's multipart handler and the citizens' form both
hand in `(file name, bytes)` pairs and get back images ready to store, or an Unprocessable
that names the file.

- The type is read from the bytes by Pillow (PNG, JPEG, WebP, GIF); the name and the declared
  content type are never trusted.
- Every image is decoded and re-encoded: EXIF (GPS, camera), ICC profiles, text chunks and
  anything appended after the image (a polyglot's script or archive) are gone; the EXIF
  orientation is applied first; the long side is cut to ZHAOCUO_ATTACHMENT_MAX_SIDE pixels.
- Decompression bombs are refused from the header, before decoding: more pixels than
  ZHAOCUO_MAX_ATTACHMENT_PIXELS, and Pillow's DecompressionBombWarning is an error.
"""

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from app.config import Settings
from app.errors import Unprocessable

ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP", "GIF")
# What each accepted format is stored as: GIF becomes a PNG of its first frame.
STORED_FORMAT = {"PNG": "PNG", "JPEG": "JPEG", "WEBP": "WEBP", "GIF": "PNG"}
MEDIA_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
JPEG_QUALITY = 85
WEBP_QUALITY = 85
NAME_SHOWN_MAX = 60


@dataclass(frozen=True)
class PreparedImage:
    """A screenshot ready to store: re-encoded bytes without metadata, and what they are."""

    media_type: str
    data: bytes
    width: int
    height: int

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.media_type]


def shown_name(name: str) -> str:
    """A file name as an error message may quote it: printable, short."""
    printable = "".join(c for c in name if c.isprintable()).strip()
    if len(printable) > NAME_SHOWN_MAX:
        printable = printable[: NAME_SHOWN_MAX - 1] + "…"
    return printable or "（未命名）"


def _invalid(name: str) -> Unprocessable:
    shown = shown_name(name)
    return Unprocessable(
        f"文件“{shown}”不是可用的图片，截图只接受 PNG、JPEG、WebP 或 GIF 格式",
        en=f"the file “{shown}” is not a usable image: screenshots must be PNG, JPEG, WebP or GIF",
        code="attachment_invalid",
    )


def _too_many_pixels(name: str, settings: Settings) -> Unprocessable:
    shown = shown_name(name)
    limit = settings.max_attachment_pixels
    return Unprocessable(
        f"图片“{shown}”的像素超过 {limit} 个，请缩小后再上传",
        en=f"the image “{shown}” has more than {limit} pixels; make it smaller and try again",
        code="attachment_too_large",
    )


def check_count(count: int, *, settings: Settings) -> None:
    """Refuse more files than ZHAOCUO_MAX_ATTACHMENTS."""
    limit = settings.max_attachments
    if count > limit:
        raise Unprocessable(
            f"最多只能上传 {limit} 张截图，您选择了 {count} 个文件",
            en=f"at most {limit} screenshots may be attached; you sent {count} files",
            code="too_many_attachments",
        )


def check_size(name: str, size: int, *, settings: Settings) -> None:
    """Refuse a file over ZHAOCUO_MAX_ATTACHMENT_BYTES."""
    limit = settings.max_attachment_bytes
    if size > limit:
        shown = shown_name(name)
        megabytes = f"{limit / 1024 / 1024:g}"
        raise Unprocessable(
            f"文件“{shown}”超过 {megabytes} MB，请压缩或截取部分后再上传",
            en=f"the file “{shown}” is larger than {megabytes} MB; make it smaller and try again",
            code="attachment_too_large",
        )


def _encode(image: Image.Image, source_format: str) -> tuple[str, bytes]:
    target = STORED_FORMAT[source_format]
    out = io.BytesIO()
    if target == "JPEG":
        if image.mode not in ("L", "RGB"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, exif=b"")
    elif target == "WEBP":
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if image.has_transparency_data else "RGB")
        image.save(out, "WEBP", quality=WEBP_QUALITY, exif=b"")
    else:
        if image.mode not in ("1", "L", "LA", "RGB", "RGBA"):
            image = image.convert("RGBA")
        image.save(out, "PNG")  # optimize=True costs 3× the time for a few per cent
    return MEDIA_TYPES[target], out.getvalue()


def _decode(name: str, data: bytes, *, settings: Settings) -> tuple[Image.Image, str]:
    """The first frame, upright, and the format the bytes are in."""
    with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as opened:
        source_format = opened.format
        width, height = opened.size
        if width * height > settings.max_attachment_pixels:
            raise _too_many_pixels(name, settings)
        opened.seek(0)  # the first frame of an animation
        opened.load()
        image = ImageOps.exif_transpose(opened)
        if image is opened:
            image = opened.copy()
    return image, source_format


def prepare_image(name: str, data: bytes, *, settings: Settings) -> PreparedImage:
    """One file as a clean re-encoded image, or Unprocessable naming it."""
    check_size(name, len(data), settings=settings)
    # Set each time: the setting is the process's one limit, and Pillow reads this global.
    Image.MAX_IMAGE_PIXELS = settings.max_attachment_pixels
    try:
        # Pillow's bomb warning (more pixels than the limit) is a refusal, not a log line.
        # catch_warnings is process-wide: a thread that restores the filters late can only
        # leave this same "error" filter behind.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image, source_format = _decode(name, data, settings=settings)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(name, settings) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        # Not an image, a truncated one, or a format Pillow refuses to decode.
        raise _invalid(name) from None
    # Nothing of the original travels on but the pixels (and a palette's transparency).
    transparency = image.info.get("transparency")
    image.info = {} if transparency is None else {"transparency": transparency}
    if image.mode in ("P", "PA", "1"):
        # Palette and 1-bit images scale only by nearest neighbour: give them full colour first.
        image = image.convert("RGBA" if image.has_transparency_data else "RGB")
    side = settings.attachment_max_side
    try:
        if max(image.size) > side:
            image.thumbnail((side, side), Image.Resampling.LANCZOS)
        media_type, encoded = _encode(image, source_format)
    except (OSError, ValueError):
        raise _invalid(name) from None
    return PreparedImage(
        media_type=media_type, data=encoded, width=image.width, height=image.height
    )


def prepare_screenshots(
    files: list[tuple[str, bytes]], *, settings: Settings
) -> list[PreparedImage]:
    """Check and re-encode a submission's screenshots, in order; refuse them all if one fails.

    An empty file without a name (a form's file input left empty) is skipped.
    """
    given = [(name, data) for name, data in files if name or data]
    check_count(len(given), settings=settings)
    for name, data in given:
        check_size(name, len(data), settings=settings)
    return [prepare_image(name, data, settings=settings) for name, data in given]
