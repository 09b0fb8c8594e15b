"""One-click unsubscribe from notification email (RFC 8058).

Each notification or digest email links to /email/unsubscribe/<account>/<kind>/<token>,
where the token is an HMAC of the account and kind under the secret key
(web/mail.py), so no row is needed and no one can forge another person's link.
GET shows a page with one button; POST (that button, or a mail client's
one-click POST, which carries no session or CSRF token: this route alone is
exempt, security.CSRF_EXEMPT) sends that kind to the web only. A digest's link
stops the email of every kind (models/services/mail.py: unsubscribe).
"""

from __future__ import annotations

from quart import Blueprint, current_app, render_template, request

from models.errors import NotFound
from models.services import mail as mail_service
from web.html.notification_settings import KIND_LABELS
from web.i18n import _
from web.mail import token_is_valid

bp = Blueprint("unsubscribe", __name__)


@bp.route("/email/unsubscribe/<int:account_id>/<kind>/<token>", methods=["GET", "POST"])
async def confirm(account_id: int, kind: str, token: str):
    if not token_is_valid(current_app.config["SECRET_KEY"], account_id, kind, token):
        raise NotFound("This unsubscribe link is not valid. Copy the whole link from the email, "
                       "or choose what you hear about in your settings.")
    template = "unsubscribe/confirm.html" if request.method == "GET" else "unsubscribe/done.html"
    if request.method == "POST":
        await mail_service.unsubscribe(account_id, kind)
    label = _(KIND_LABELS[kind]) if kind in KIND_LABELS else kind
    return await render_template(template, kind=label, digest=kind == mail_service.DIGEST)
