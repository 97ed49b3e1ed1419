"""Photos from shoppers (a damaged or wrong item): checked, re-encoded, kept outside the web root.

``POST /webhooks/shop/photos`` takes ``{"session_id", "image"}`` (the image as base64; the widget
scales it down in the browser first, so it fits the server's 1 MB body limit). The bytes are never
trusted: Pillow sniffs the format from the content (JPEG, PNG or WebP only, whatever the name or
type claimed), refuses decompression bombs, applies the EXIF orientation and re-encodes a fresh JPEG
of at most :data:`MAX_SIDE` pixels. Re-encoding drops every metadata block (GPS position, camera)
and anything hidden after the image data. The file lands in ``<var>/uploads/`` (outside the web
root), served only to logged-in agents (``GET /webhooks/shop/agent/photos/<name>``). Its name is a
hash of the conversation and a random part: unguessable, and erasable with the shopper's data.

The photo becomes a line of the conversation (``metadata.photo``): in an open hand-off it reaches the
agent at once; otherwise it is in the transcript an agent sees with a later complaint or hand-off.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
import secrets
from pathlib import Path
from typing import Iterable, Optional, Tuple

from PIL import Image, ImageOps, UnidentifiedImageError

from core.settings import Settings, get_settings

ALLOWED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
MAX_UPLOAD_BYTES = 900_000  # decoded; the widget sends at most ~700 KB
MAX_PIXELS = 40_000_000  # a 4:3 photo of ~7300 x 5500: anything bigger is refused before decoding
MAX_SIDE = 1600
JPEG_QUALITY = 85
PHOTO_NAME = re.compile(r"^[0-9a-f]{32}\.jpg$")


class PhotoRefused(ValueError):
    """Not a photo we keep; the message is shown to the shopper."""


def decode_upload(data: object) -> bytes:
    """The uploaded bytes from base64 (a ``data:`` URL prefix is allowed)."""
    if not isinstance(data, str) or not data:
        raise PhotoRefused("send the photo as base64 in 'image'")
    if data.startswith("data:"):
        data = data.split(",", 1)[-1]
    if len(data) > MAX_UPLOAD_BYTES * 4 // 3 + 4:
        raise PhotoRefused("the photo is too large (at most 900 KB)")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise PhotoRefused("the photo is not valid base64") from None
    if not raw or len(raw) > MAX_UPLOAD_BYTES:
        raise PhotoRefused("the photo is too large (at most 900 KB)")
    return raw


def reencode(raw: bytes) -> Tuple[bytes, Tuple[int, int]]:
    """A clean JPEG of the photo in ``raw`` and its size; :class:`PhotoRefused` for anything else."""
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            kind, (width, height) = probe.format, probe.size
            if kind not in ALLOWED_FORMATS:
                raise PhotoRefused("only JPEG, PNG or WebP photos")
            if width * height > MAX_PIXELS:
                raise PhotoRefused("the photo has too many pixels")
            probe.verify()  # truncated or corrupt data fails here, before any full decode
        with Image.open(io.BytesIO(raw)) as opened:
            upright = ImageOps.exif_transpose(opened).convert("RGB")  # EXIF orientation applied, then dropped
            upright.thumbnail((MAX_SIDE, MAX_SIDE))
            out = io.BytesIO()
            upright.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
            return out.getvalue(), upright.size
    except PhotoRefused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise PhotoRefused("that file is not a photo we can read") from None


def photos_dir(settings: Optional[Settings] = None) -> Path:
    """Where shoppers' photos are kept: ``<SHOP_VAR_DIR>/uploads``, never below a served folder."""
    return (settings or get_settings()).var_dir / "uploads"


def _owner(sender_id: str) -> str:
    return hashlib.sha256(sender_id.encode("utf-8")).hexdigest()[:16]


def keep_photo(folder: Path, raw: bytes, sender_id: str) -> str:
    """Re-encode and store the conversation's photo in ``folder``; returns its name."""
    jpeg, _ = reencode(raw)
    folder.mkdir(parents=True, exist_ok=True)
    name = _owner(sender_id) + secrets.token_hex(8) + ".jpg"
    (folder / name).write_bytes(jpeg)
    return name


def erase_shopper_photos(folder: Path, senders: Iterable[str]) -> int:
    """Delete the photos of these conversations (account deletion); returns how many."""
    erased = 0
    for sender in senders:
        for path in folder.glob(_owner(sender) + "*.jpg") if folder.is_dir() else ():
            path.unlink(missing_ok=True)
            erased += 1
    return erased


def photo_path(folder: Path, name: str) -> Optional[Path]:
    """The stored photo called ``name``; None for any other name (no path tricks)."""
    if not PHOTO_NAME.match(name or ""):
        return None
    path = folder / name
    return path if path.is_file() else None


__all__ = [
    "PhotoRefused",
    "decode_upload",
    "erase_shopper_photos",
    "keep_photo",
    "photo_path",
    "photos_dir",
    "reencode",
]
