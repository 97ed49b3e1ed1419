"""Photos from shoppers: only real photos are kept, re-encoded without their metadata, shown to agents only.

Images made with Pillow here (a JPEG with GPS data in its EXIF, a PNG, a file that only claims to be
an image, a decompression bomb); the upload through the channel's real blueprint on a loopback port.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from PIL import Image

from handoff.store import default_store
from handoff.tickets import create_ticket
from shopdb.photos import MAX_SIDE, PhotoRefused, decode_upload, erase_shopper_photos, keep_photo, photo_path, reencode

PASSWORD = "a long enough test password"


def _jpeg_with_location(size=(3000, 2000)) -> bytes:
    image = Image.new("RGB", size, (200, 40, 40))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0)}  # GPS position of the shopper's home
    exif[0x0110] = "Shopper's phone"  # camera model
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue() + b"<script>alert(1)</script>"  # and something hidden after the image


def test_a_photo_is_re_encoded_smaller_without_its_metadata(tmp_path: Path) -> None:
    jpeg, size = reencode(_jpeg_with_location())
    assert max(size) == MAX_SIDE
    with Image.open(io.BytesIO(jpeg)) as clean:
        assert clean.format == "JPEG" and not clean.getexif()
    assert b"<script>" not in jpeg
    png = io.BytesIO()
    Image.new("RGBA", (40, 30), (0, 0, 255, 128)).save(png, "PNG")
    name = keep_photo(tmp_path, png.getvalue(), "conversation-1")
    other = keep_photo(tmp_path, png.getvalue(), "conversation-2")
    assert photo_path(tmp_path, name) == tmp_path / name and name[:16] != other[:16]
    for bad_name in ("../shop.db", name.replace(".jpg", ".png"), "", "x" * 32 + ".jpg"):
        assert photo_path(tmp_path, bad_name) is None
    assert erase_shopper_photos(tmp_path, ["conversation-1"]) == 1  # a shopper's data rights
    assert photo_path(tmp_path, name) is None and photo_path(tmp_path, other) is not None


@pytest.mark.parametrize(
    "raw",
    [
        b"GIF89a" + b"\x00" * 100,  # a GIF: not a photo format we keep
        b"%PDF-1.4 pretending to be an image",
        b"\xff\xd8\xff\xe0" + b"\x00" * 200,  # a JPEG header with nothing behind it
    ],
)
def test_anything_but_a_readable_photo_is_refused(raw: bytes) -> None:
    with pytest.raises(PhotoRefused):
        reencode(raw)


def test_a_decompression_bomb_is_refused_before_decoding() -> None:
    bomb = io.BytesIO()
    Image.new("1", (9000, 9000)).save(bomb, "PNG")  # tiny file, 81 million pixels
    assert len(bomb.getvalue()) < 100_000
    with pytest.raises(PhotoRefused):
        reencode(bomb.getvalue())


def test_uploads_must_be_small_base64() -> None:
    assert decode_upload("data:image/jpeg;base64," + base64.b64encode(b"abc").decode()) == b"abc"
    for bad in (None, "", "not base64!!", base64.b64encode(b"x" * 1_000_000).decode()):
        with pytest.raises(PhotoRefused):
            decode_upload(bad)


async def _json(reply: aiohttp.ClientResponse, status: int = 200) -> Any:
    assert reply.status == status, await reply.text()
    return await reply.json()


def test_a_photo_sent_during_a_hand_off_reaches_the_agent_and_only_agents(web_settings, channel_app, serve_app) -> None:
    app, channel = channel_app("photos_test")
    store = default_store()
    store.create_agent("robin", PASSWORD, "Robin")
    sender = channel.conversation_ids.new()
    ticket, _, _ = create_ticket(sender, [])
    photo = base64.b64encode(_jpeg_with_location((800, 600))).decode()

    async def scenario(base: str) -> None:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
            refused = await client.post(f"{base}/photos", json={"session_id": "made-up", "image": photo})
            assert refused.status == 400
            not_a_photo = await client.post(
                f"{base}/photos", json={"session_id": sender, "image": base64.b64encode(b"%PDF").decode()}
            )
            assert not_a_photo.status == 400 and "not a photo" in (await not_a_photo.json())["error"]

            sent = await _json(await client.post(f"{base}/photos", json={"session_id": sender, "image": photo}))
            name = sent["photo"]
            assert sent["delivered"] is True  # an open hand-off: it went to the agents
            assert (await client.get(f"{base}/agent/photos/{name}")).status == 401  # shoppers and strangers: no

            await _json(await client.post(f"{base}/agent/login", json={"username": "robin", "password": PASSWORD}))
            detail = await _json(await client.get(f"{base}/agent/tickets/{ticket.id}"))
            [line] = [m for m in detail["messages"] if m["meta"].get("photo")]
            assert line["author"] == "shopper" and line["meta"]["photo"] == name
            shown = await client.get(f"{base}/agent/photos/{name}")
            assert shown.status == 200 and shown.headers["Content-Type"] == "image/jpeg"
            with Image.open(io.BytesIO(await shown.read())) as image:
                assert image.size == (800, 600) and not image.getexif()
            assert (await client.get(f"{base}/agent/photos/..%2Fshop.db")).status == 404

            # No hand-off: the bot says it keeps the photo; it is in the transcript a later ticket carries.
            alone = channel.conversation_ids.new()
            kept = await _json(await client.post(f"{base}/photos", json={"session_id": alone, "image": photo}))
            assert kept["delivered"] is False and "kept your photo" in kept["messages"][0]["text"]
            history = await _json(await client.get(f"{base}/history/{alone}"))
            assert [m.get("photo") for m in history["messages"] if m["role"] == "user"] == [kept["photo"]]

    serve_app(app, lambda root: scenario(root + "/webhooks/shop"))
