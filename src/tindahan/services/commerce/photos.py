"""Product photos: adding one to a product, removing it, and reading a stored rendition.

The upload is checked and re-encoded first, outside any transaction (``prepare``, which a
face calls before ``add``: decoding a 12-megapixel photo takes a moment that no database
lock should wait on; a refusal there stores nothing), then its renditions are written to
the platform's ``MediaStore`` under their content hashes, then the row goes in with the
transaction. If the transaction rolls
back, the written files stay unreferenced; they hold nothing but re-encoded pixels, and the
same bytes uploaded again reuse them. Removing a photo deletes its files once the removal
has committed (never inside the transaction: a rollback would leave the row naming missing
bytes), and only those no other photo's row names by then.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, func, insert, select

from tindahan import limits
from tindahan.commerce import photos as rules
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import conflict, not_found
from tindahan.services.commerce.catalog import get_product, photo_view, product_row
from tindahan.services.unit import Unit, new_id
from tindahan.store.commerce_tables import product_photos
from tindahan.store.lesson_tables import lesson_images
from tindahan.store.media import NAME


def prepare(data: bytes) -> rules.Prepared:
    """The upload checked and re-encoded (no unit: call it before opening one)."""
    return rules.prepare(data)


def add(
    unit: Unit, caller: Caller, product_id: str, prepared: rules.Prepared, alt: object
) -> dict[str, Any]:
    """The photo added after the product's others; answers the photo."""
    text = may_add(unit, caller, product_id, alt)
    for rendition in prepared.renditions:
        unit.platform.media.put(rendition.name, rendition.data)
    last = unit.conn.execute(
        select(func.max(product_photos.c.position)).where(product_photos.c.product_id == product_id)
    ).scalar_one()
    row = {
        "id": new_id("pho"),
        "product_id": product_id,
        "position": 0 if last is None else last + 1,
        "alt": text,
        "width": prepared.width,
        "height": prepared.height,
        "renditions": json.dumps(
            [{"w": r.width, "h": r.height, "name": r.name} for r in prepared.renditions]
        ),
        "created_at_ns": unit.now(),
    }
    unit.conn.execute(insert(product_photos).values(**row))
    return photo_view(row)


def may_add(unit: Unit, caller: Caller, product_id: str, alt: object) -> str:
    """Refuses unless the caller may add this photo (its product, room for one more, alt
    text given): checked before an upload is decoded, and again as it is added. Answers
    the alt text, checked."""
    caller.require("catalog:write")
    _owned(unit, caller, product_id)
    text = rules.alt_text(alt)
    count = unit.conn.execute(
        select(func.count()).where(product_photos.c.product_id == product_id)
    ).scalar_one()
    if count >= limits.MAX_PHOTOS_PER_PRODUCT:
        message = f"a product has at most {limits.MAX_PHOTOS_PER_PRODUCT} photos"
        raise conflict("photos_full", message, "file")
    return text


def _owned(unit: Unit, caller: Caller, product_id: str) -> Any:
    row = product_row(unit, product_id, caller=caller)
    if not caller.reaches(row["merchant_id"]):
        raise not_found("product", "id")
    return row


def remove(unit: Unit, caller: Caller, product_id: str, photo_id: str) -> dict[str, Any]:
    """The photo gone from the product (and its files, unless another photo shares them);
    answers the product."""
    caller.require("catalog:write")
    _owned(unit, caller, product_id)
    where = (product_photos.c.id == photo_id) & (product_photos.c.product_id == product_id)
    row = unit.conn.execute(select(product_photos).where(where)).mappings().first()
    if row is None:
        raise not_found("photo", "photo_id")
    unit.conn.execute(delete(product_photos).where(where))
    names = [rendition["name"] for rendition in json.loads(row["renditions"])]
    platform = unit.platform
    unit.after_commit.append(lambda: platform.run(lambda u: _forget(u, names), write=False))
    return get_product(unit, caller, product_id)


def _forget(unit: Unit, names: list[str]) -> None:
    """Deletes the files of ``names`` that no photo's row names (read after the removal
    committed: another photo of the same bytes keeps them, and so does a picture uploaded
    for lessons of the same bytes)."""
    for name in names:
        shared = product_photos.c.renditions.contains(name)
        if unit.conn.execute(select(product_photos.c.id).where(shared)).first() is not None:
            continue
        lesson = lesson_images.c.renditions.contains(name)
        if unit.conn.execute(select(lesson_images.c.name).where(lesson)).first() is None:
            unit.platform.media.delete(name)


def rendition(unit: Unit, name: str) -> bytes | None:
    """A stored rendition's bytes by its name (``<sha256>.webp``), or None. Names are
    content hashes: knowing one is having been shown the photo."""
    if not NAME.fullmatch(name):
        return None
    return unit.platform.media.get(name)
