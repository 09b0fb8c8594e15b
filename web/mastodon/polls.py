"""Polls: how members vote on circle proposals, answer meeting RSVPs and
answer polls from other servers, from apps
(https://docs.joinmastodon.org/methods/polls/). A poll's id is its post's
(web/mastodon/poll_entities.py); a vote goes through the service the web
form uses, so its rules and its federation are the same."""

from __future__ import annotations

from quart import Blueprint

from models.errors import Conflict, InvalidInput
from models.posts import Post
from models.services import governance, meetings, remote_polls, validation
from web.mastodon import auth, poll_entities
from web.mastodon import params as api_params
from web.mastodon.params import row_id
from web.i18n import N_
from web.mastodon.errors import RECORD_NOT_FOUND, ApiError
from web.mastodon.statuses import may_read
from web.site import site

bp = Blueprint("mastodon_polls", __name__)

ENDED = N_("The poll has already ended.")  # Mastodon's config/locales/en.yml, polls.errors.expired
NO_SUCH_OPTION = N_("The chosen vote option does not exist.")  # polls.errors.invalid_choice
ONE_CHOICE = N_("This poll takes one choice.")
NO_CHOICE = N_("Choose an option of the poll.")


async def _visible_poll(raw_id: str) -> poll_entities.PollSource:
    """The poll with this id, if the viewer may read its post as a status
    (statuses.may_read: its circle, and no block by its author); else 404, as
    Mastodon answers for a status one may not see: `authorize @poll.status, :show?`
    (app/controllers/api/v1/polls_controller.rb and polls/votes_controller.rb;
    StatusPolicy#show? in app/policies/status_policy.rb refuses whom the author blocked)."""
    post_id = row_id(raw_id)
    if post_id is None:
        raise ApiError(404, RECORD_NOT_FOUND)
    post = await Post.filter(id=post_id, deleted_at=None).select_related("author", "circle__actor").first()
    account = auth.current_account()
    viewer = account.actor if account else None
    if post is None or not await may_read(post, viewer):
        raise ApiError(404, RECORD_NOT_FOUND)
    source = await poll_entities.source_of(post)
    if source is None:
        raise ApiError(404, RECORD_NOT_FOUND)
    return source


async def _entity(post: Post) -> dict:
    return (await poll_entities.polls([post], viewer=auth.current_account()))[post.id]


@bp.get("/api/v1/polls/<raw_id>")
async def show(raw_id: str):
    # Anyone may read a poll they can see; a token, when given, needs the scope
    # (app/controllers/api/v1/polls_controller.rb: authorize_if_got_token! :read, :'read:statuses').
    auth.require_if_token("read:statuses")
    source = await _visible_poll(raw_id)
    return await _entity(source.post)


async def _choices() -> list[str]:
    """`choices[]` as a form sends it, or `choices` in JSON."""
    raw = (await api_params.read()).get("choices")
    return [str(c) for c in raw] if isinstance(raw, list) else ([str(raw)] if raw is not None else [])


def _index(choices: list[str], titles: list[str]) -> int:
    """The one option chosen (Mastodon's VoteValidator: an index of the poll's options)."""
    if not choices:
        raise InvalidInput(NO_CHOICE, field="choices")
    if len(choices) > 1:
        raise InvalidInput(ONE_CHOICE, field="choices")
    index = validation.whole_number(choices[0].strip())
    if index is None or index >= len(titles):
        raise InvalidInput(NO_SUCH_OPTION, field="choices")
    return index


@bp.post("/api/v1/polls/<raw_id>/votes")
@auth.scoped("write:statuses")  # app/controllers/api/v1/polls/votes_controller.rb
async def vote(raw_id: str):
    source = await _visible_poll(raw_id)
    index = _index(await _choices(), source.titles)
    if source.expired:
        raise InvalidInput(ENDED)
    actor = auth.current_account().actor
    try:
        if source.proposal is not None:
            proposal = await governance.get_proposal(source.post.id)
            choice = poll_entities.PROPOSAL_OPTIONS[index][1]
            await governance.vote(site().instance, proposal, actor, choice.value)
        elif source.meeting is not None:
            await meetings.rsvp(actor, source.meeting, poll_entities.RSVP_OPTIONS[index][1])
        else:
            await remote_polls.answer(actor, source.post, source.titles[index])
    except Conflict as error:
        # Mastodon answers a vote its rules refuse with 422 (a closed poll, one voted on already).
        raise InvalidInput(error.template, field=error.field, **error.params) from None
    return await _entity(source.post)
