"""Photos as uploaded, made safe to keep and show: the type read from the bytes, never the name; decompression bombs
refused before decoding; the EXIF orientation applied, then every metadata block dropped (GPS above all); the long
side capped; a thumbnail made.

JPEG, PNG and WebP are accepted. HEIC (iPhone) is refused with a message saying how to send it: no maintained HEIC
decoder is pinned here (phones' browsers turn HEIC into JPEG when a page asks for `image/*`).
"""

import io
import warnings
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from app.services.errors import DomainError

# what the bytes start with → Pillow's format name
SIGNATURES = ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG"))
HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif")
OUTPUT = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png"), "WEBP": ("image/webp", ".webp")}
DRAFT_KEEPS = 0.9  # the share of ATTACHMENT_MAX_PIXELS_SIDE a JPEG decoded at a reduced scale keeps at least
MODES = {"JPEG": ("RGB", "L"), "PNG": ("RGB", "RGBA", "L", "LA"), "WEBP": ("RGB", "RGBA")}


class PhotoRefused(DomainError):
    """An upload is not a photo we keep: 415 (not an accepted type), 413 (too big), 422 (unreadable, a bomb)."""

    def __init__(self, message: str, status: int = 422, code: str = "photo_refused"):
        super().__init__(message, code)
        self.status = status


@dataclass
class Photo:
    """A photo ready to store: the re-encoded image and its thumbnail, nothing else from the upload."""

    data: bytes
    content_type: str
    extension: str
    width: int
    height: int
    thumbnail: bytes


def sniff(head: bytes) -> str | None:
    """The format the bytes declare ('JPEG', 'PNG', 'WEBP', 'HEIF'), or None."""
    for signature, name in SIGNATURES:
        if head.startswith(signature):
            return name
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        return "HEIF"
    return None


def _settings() -> tuple[int, int, int, int]:
    config = current_app.config
    return (
        config["ATTACHMENT_MAX_BYTES"],
        config["ATTACHMENT_MAX_PIXELS_SIDE"],
        config["ATTACHMENT_THUMBNAIL_SIDE"],
        config["ATTACHMENT_MAX_SOURCE_PIXELS"],
    )


def _draft(image: Image.Image, max_side: int) -> None:
    """Let a large JPEG be decoded at 1/2, 1/4 or 1/8 of its size (almost free, in the DCT) when that still leaves
    at least 90 % of `max_side` on its long side: a 12 MP phone photo then needs no slow resampling at all."""
    long_side = max(image.size)
    for scale in (8, 4, 2):
        if long_side / scale >= max_side * DRAFT_KEEPS:
            image.draft("RGB", (-(-image.width // scale), -(-image.height // scale)))
            return


def _open(data: bytes, kind: str, max_pixels: int, max_side: int) -> Image.Image:
    """The decoded first frame, in its upright orientation; refused before decoding when it declares too many pixels."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[kind])
            width, height = image.size
            if width < 1 or height < 1 or width * height > max_pixels:
                raise PhotoRefused(
                    _(
                        "This picture is %(width)d × %(height)d pixels: too large to open safely. "
                        "Send a smaller photo.",
                        width=width,
                        height=height,
                    )
                )
            if kind == "JPEG":
                _draft(image, max_side)
            image.load()
            return ImageOps.exif_transpose(image)
    except PhotoRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRefused(_("This picture is too large to open safely. Send a smaller photo.")) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError):
        raise PhotoRefused(_("This photo could not be read; it may be damaged. Take it again.")) from None


def _encode(image: Image.Image, kind: str) -> bytes:
    """`image` written as `kind` from its pixels alone: no EXIF, XMP, ICC or comments are carried over."""
    if image.mode not in MODES[kind]:
        alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        image = image.convert("RGBA" if alpha and kind != "JPEG" else "RGB")
    image.info.clear()  # Pillow carries some blocks (XMP, ICC) from `info` into what it saves
    out = io.BytesIO()
    if kind == "JPEG":
        image.save(out, "JPEG", quality=85)
    elif kind == "PNG":
        image.save(out, "PNG", compress_level=6)
    else:
        image.save(out, "WEBP", quality=85, method=4)
    return out.getvalue()


def _thumbnail(image: Image.Image, side: int) -> bytes:
    thumb = image.copy()
    thumb.thumbnail((side, side), Image.Resampling.LANCZOS, reducing_gap=2.0)
    if thumb.mode in ("RGBA", "LA", "P"):
        thumb = thumb.convert("RGBA")
        flat = Image.new("RGB", thumb.size, (255, 255, 255))
        flat.paste(thumb, mask=thumb.getchannel("A"))
        thumb = flat
    thumb = thumb.convert("RGB")
    thumb.info.clear()
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=80)
    return out.getvalue()


def check_size(size: int) -> None:
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    if size > limit:
        raise PhotoRefused(
            _("A photo may be at most %(mb).0f MB.", mb=limit / 1_048_576), status=413, code="too_large"
        )


def prepare(data: bytes) -> Photo:
    """The upload `data` as a Photo to keep, or PhotoRefused saying why (nothing is written either way)."""
    _max_bytes, max_side, thumb_side, max_pixels = _settings()
    check_size(len(data))
    kind = sniff(data[:16])
    if kind == "HEIF":
        raise PhotoRefused(
            _(
                "HEIC/HEIF photos are not accepted. Choose the photo from the album in this page (it is sent as "
                "JPEG), or set the camera to “Most Compatible”."
            ),
            status=415,
            code="unsupported_type",
        )
    if kind not in OUTPUT:
        raise PhotoRefused(
            _("Only photos are accepted (JPEG, PNG or WebP); this file is not one."),
            status=415,
            code="unsupported_type",
        )
    image = _open(data, kind, max_pixels, max_side)
    if image.width > max_side or image.height > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    content_type, extension = OUTPUT[kind]
    try:
        data, thumbnail = _encode(image, kind), _thumbnail(image, thumb_side)
    except (OSError, ValueError):  # a pixel format that cannot be re-encoded (16-bit greyscale and the like)
        raise PhotoRefused(_("This photo could not be read; it may be damaged. Take it again.")) from None
    return Photo(data, content_type, extension, image.width, image.height, thumbnail)
