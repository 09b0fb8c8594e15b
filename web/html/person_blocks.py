"""Muting and blocking people, from their page, and the list of who one
hides in settings (issue 11)."""

from __future__ import annotations

from quart import Blueprint, flash, redirect, render_template, request, url_for

from models.actors import Actor
from models.errors import InvalidInput
from models.person_blocks import BlockKind
from models.services import person_blocks
from web import security
from web.html.people import person_url
from web.i18n import N_, _

bp = Blueprint("person_blocks", __name__)


@bp.get("/settings/blocks")
@security.login_required
async def index():
    rows = await person_blocks.list_for(security.current_account().actor)
    return await render_template("settings/blocks.html", rows=rows, kinds=BlockKind)


@bp.post("/people/<int:actor_id>/block")
@security.login_required
async def change(actor_id: int):
    """`kind` is "mute", "block" or "none" (to stop muting or blocking)."""
    owner = security.current_account().actor
    target = await Actor.get_or_none(id=actor_id)
    choice = (await request.form).get("kind", "")
    if choice == "none":
        if await person_blocks.remove(owner, target) is not None:
            await flash(_("You no longer hide %(name)s.", name=target.name))
    else:
        try:
            kind = BlockKind(choice)
        except ValueError:
            raise InvalidInput(N_("Choose to mute or to block."), field="kind") from None
        await person_blocks.set_block(owner, target, kind)
        await flash(_(FLASHES[kind], name=target.name))
        if kind is BlockKind.BLOCK and not target.local:
            await flash(_("Their server, %(domain)s, is told of the block, as fediverse servers expect.",
                          domain=target.domain))
    return redirect(_back(target))


# Each says what the choice does and who learns of it.
FLASHES = {
    BlockKind.MUTE: N_("You muted %(name)s: their posts and replies are hidden from you. They are not told."),
    BlockKind.BLOCK: N_("You blocked %(name)s: their posts and replies are hidden from you, and they can no "
                        "longer follow you, like your posts or reply to them."),
}


def _back(target: Actor) -> str:
    """The settings list when the form was sent from there, else the person's page."""
    if request.args.get("from") == "settings":
        return url_for("person_blocks.index")
    return person_url(target)
