"""Admin pages of the staff portal, one module a purpose: accounts, the audit trail, the exports.

Every route here is for admins only: `access.ADMIN_BLUEPRINTS` names this blueprint, and the
central guard refuses it (403) to anyone else, so the views carry no login decorators. The
app-wide CSRFProtect checks every POST (the buttons carry `csrf_token()`).
"""

from flask import Blueprint

bp = Blueprint("staff_admin", __name__, url_prefix="/staff")

# Imported for their routes, which they add to `bp` (after it exists).
from app.staff.admin import accounts, audit_trail, exports, follow_up_export  # noqa: E402

__all__ = ["accounts", "audit_trail", "bp", "exports", "follow_up_export"]
