"""A user's own profile: name, language, time zone and picture."""

from __future__ import annotations

import io

from flask import g, session
from flask_babel import gettext as _

from app.accounts.models import User
from app.accounts.users import AccountError
from app.i18n.timezones import TIMEZONES
from app.unit_of_work import after_commit


AVATAR_MAX_BYTES = 2 * 1024 * 1024


AVATAR_SIZE = 256


def update_profile(user: User, *, name: str, locale: str, timezone: str) -> None:
    if not name.strip():
        raise AccountError(_("Please enter your name."), "name")
    if locale not in g.tenant.locales:
        raise AccountError(_("Please choose one of the languages offered."), "locale")
    if timezone not in TIMEZONES and timezone != "UTC":
        raise AccountError(_("Please choose a time zone from the list."), "timezone")
    user.name = name.strip()[:200]
    user.locale = locale
    user.timezone = timezone
    session["lang"] = locale


def set_avatar(user: User, upload) -> None:
    """Store a profile picture: checked (type, size), resized to a square, stored per tenant."""
    from PIL import Image, UnidentifiedImageError

    from app.storage import StorageError, get_storage, make_key

    data = upload.read(AVATAR_MAX_BYTES + 1)
    if len(data) > AVATAR_MAX_BYTES:
        raise AccountError(
            _("The picture is too large (at most %(size)s MB).", size=AVATAR_MAX_BYTES // (1024 * 1024)), "avatar"
        )
    try:
        image = Image.open(io.BytesIO(data))
        if image.format not in ("PNG", "JPEG", "GIF", "WEBP"):
            raise AccountError(_("Please upload a PNG, JPEG, GIF or WebP picture."), "avatar")
        image.thumbnail((4096, 4096))
        image = image.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise AccountError(_("Please upload a PNG, JPEG, GIF or WebP picture."), "avatar") from None
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    image = image.crop((left, top, left + side, top + side)).resize((AVATAR_SIZE, AVATAR_SIZE))
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    out.seek(0)
    key = make_key(user.tenant_id, "avatars", user.id)
    storage = get_storage()
    try:
        storage.put(key, out, "image/png")
    except StorageError:
        raise AccountError(_("The picture could not be saved just now. Please try again later."), "avatar") from None
    old = user.avatar_key
    user.avatar_key = key
    if old:

        def delete_old() -> None:
            try:
                storage.delete(old)
            except StorageError:
                pass

        after_commit(delete_old)  # once nothing points to the old picture any more
