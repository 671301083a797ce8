"""The lock's camera: a drawn JPEG, encrypted in the spec's media format, kept for the simulated storage URL.

Format (spec, "Remote unlocking with photo capturing", Java EncryptUtils): 4 zero bytes, a 16-byte IV, 44 zero
bytes, then AES-CBC/PKCS5Padding ciphertext; the key is the file_key's UTF-8 bytes (16 chars: AES-128).
"""

from __future__ import annotations

import io
import secrets
import string
from datetime import datetime

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from PIL import Image, ImageDraw, ImageFont

from locks.simulator import schedule
from locks.simulator.models import SimDevice, SimMedia

HEADER = 4 + 16 + 44
_ALNUM = string.ascii_letters + string.digits


def _random_text(n: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(n))


def encrypt(file_key: str, plain: bytes) -> bytes:
    # The demo's IV is 16 random letters and digits; any 16 bytes would do, this matches what Tuya sends.
    iv = _random_text(16).encode("ascii")
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(file_key.encode("utf-8")), modes.CBC(iv)).encryptor()
    return bytes(4) + iv + bytes(44) + encryptor.update(padded) + encryptor.finalize()


def decrypt(file_key: str, data: bytes) -> bytes:
    """The plain JPEG back from the stored file (the control page shows it; clients decrypt it themselves)."""
    iv, body = data[4:20], data[HEADER:]
    decryptor = Cipher(algorithms.AES(file_key.encode("utf-8")), modes.CBC(iv)).decryptor()
    padded = decryptor.update(body) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


def draw(title: str, when: datetime, device: SimDevice) -> bytes:
    """A simple JPEG scene: a wall, a door, and the event and local time as text."""
    image = Image.new("RGB", (640, 480), (205, 200, 190))
    pen = ImageDraw.Draw(image)
    pen.rectangle((0, 400, 640, 480), fill=(120, 110, 100))  # floor
    pen.rectangle((230, 110, 410, 400), fill=(110, 70, 40), outline=(60, 35, 20), width=6)  # door
    pen.ellipse((380, 250, 396, 266), fill=(220, 190, 60))  # handle
    pen.rectangle((300, 150, 340, 210), fill=(170, 200, 220))  # window in the door
    tz = schedule.parse_time_zone(device.time_zone) or schedule.parse_time_zone("UTC")
    local = when.astimezone(tz)
    font = ImageFont.load_default(size=26)
    small = ImageFont.load_default(size=18)
    pen.text((20, 20), title, fill=(20, 20, 20), font=font)
    pen.text((20, 60), local.strftime("%Y-%m-%d %H:%M:%S %z"), fill=(20, 20, 20), font=small)
    pen.text((20, 440), device.name, fill=(240, 240, 240), font=small)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()


def capture(device: SimDevice, title: str, now: datetime) -> SimMedia:
    file_key = _random_text(16)
    return SimMedia.objects.create(
        device=device,
        token=secrets.token_urlsafe(24),
        file_key=file_key,
        data=encrypt(file_key, draw(title, now, device)),
        created_at=now,
    )


def path(media: SimMedia) -> str:
    """Relative path under the simulator's mount, as the storage bucket would name the object."""
    return f"_sim/media/{media.token}.jpg.enc"


def url(base_url: str, media: SimMedia) -> str:
    """Absolute URL; base_url is the simulator's mount as the caller reached it, ending in '/'."""
    return base_url + path(media)


def info(base_url: str, media: SimMedia | None) -> list[dict[str, str]]:
    """The spec's media_infos / media_info_list entries (a cover image; the simulated camera takes no video)."""
    if media is None:
        return []
    return [{"file_url": url(base_url, media), "file_key": media.file_key}]
