"""Re-encrypting stored contact details and authenticator secrets under the newest key (after a key is added)."""

from __future__ import annotations

from sqlalchemy import Text, select, type_coerce, update

from app import crypto
from app.extensions import db
from app.models import AssessmentRequest, Notification, RefusedPage, StaffUser

#: Every encrypted column, by model.
ENCRYPTED_COLUMNS: dict[
    type[AssessmentRequest] | type[Notification] | type[StaffUser] | type[RefusedPage], tuple[str, ...]
] = {
    AssessmentRequest: ("name", "email", "phone", "message"),
    Notification: ("recipient",),
    StaffUser: ("totp_secret",),
    RefusedPage: ("content",),
}


def rotate_all() -> int:
    """Rotate every encrypted value and refresh the name search index; return rows changed.

    Works on the raw tokens (bypassing the column type), so nothing is decrypted needlessly
    except names, whose keyed hash depends on the newest key.
    """
    changed = 0
    for model, columns in ENCRYPTED_COLUMNS.items():
        raw = [type_coerce(getattr(model, column), Text).label(column) for column in columns]
        for row in db.session.execute(select(model.id, *raw)).all():
            values: dict[str, object] = {
                column: crypto.rotate(getattr(row, column)) for column in columns if getattr(row, column) is not None
            }
            if model is AssessmentRequest:
                values["name_search_hash"] = crypto.search_hash(crypto.decrypt(row.name))
            if not values:  # nothing encrypted in this row (no recipient, or no authenticator app yet)
                continue
            # The values are tokens already: write them past the column type's encryption.
            db.session.execute(
                update(model)
                .where(model.id == row.id)
                .values({getattr(model, k): (type_coerce(v, Text) if k in columns else v) for k, v in values.items()})
            )
            changed += 1
    return changed
