"""A thread's replies as a tree: each under the reply it answers, a few
levels deep (deeper ones open on a page of their own), in pages of whole
top-level branches, and the circle's own notes apart from the conversation.

The whole thread's skeleton (ids, parents, dates) loads in one query, the
shown replies in one more, and likes (questions only) in one grouped query,
however long the thread."""

from __future__ import annotations

import dataclasses
import datetime as dt

from tortoise.expressions import Q

from models.posts import Post, PostKind
from models.services import likes as likes_service

MAX_DEPTH = 4  # levels of replies shown nested; deeper ones behind "Continue this thread"
REPLY_PAGE_SIZE = 100  # replies on one page of a thread, in whole top-level branches


@dataclasses.dataclass(eq=False)
class Node:
    id: int
    parent_id: int | None
    published_at: dt.datetime
    deleted: bool
    note: bool  # the circle's own note (posts.is_circle_note)
    children: list[Node] = dataclasses.field(default_factory=list)
    parent: Node | None = None
    post: Post | None = None  # loaded for the shown nodes only

    @property
    def key(self) -> tuple:
        return (self.published_at, self.id)


@dataclasses.dataclass
class ThreadView:
    """What one thread page shows. `branches` are the top-level nodes shown
    (a page of them, or one sub-thread); `notes` the circle's own notes at
    the top of the thread (first page only)."""

    branches: list[Node]
    notes: list[Node]
    page: int = 1
    has_more: bool = False
    sub_thread: Node | None = None  # the reply whose branch is shown alone
    thread: Thread | None = None


@dataclasses.dataclass
class Place:
    """Where a reply shows: on page `page` of its thread, or (at or below
    the last level a page shows) in the sub-thread of the reply `anchor_id`."""

    page: int = 1
    anchor_id: int | None = None


class Thread:
    """A thread's tree, built from its skeleton; `tops` are the replies to
    the root in the order they are shown, notes apart."""

    def __init__(self, root: Post, nodes: dict[int, Node], likes: dict[int, int]):
        self.root = root
        self.nodes = nodes
        tops: list[Node] = []
        for node in sorted(nodes.values(), key=lambda n: n.key):
            parent = nodes.get(node.parent_id) if node.parent_id != root.id else None
            node.parent = parent
            (parent.children if parent is not None else tops).append(node)
        _prune_deleted(tops)
        self.notes = [node for node in tops if node.note]
        self.tops = sorted((node for node in tops if not node.note), key=_order(root, likes))
        self.pages = _pages(self.tops)

    def depth_of(self, node: Node) -> int:
        depth = 1
        while node.parent is not None:
            node, depth = node.parent, depth + 1
        return depth

    def place_of(self, post_id: int) -> Place:
        node = self.nodes.get(post_id)
        if node is None or node.note:
            return Place()
        # The thread page shows levels 1 to MAX_DEPTH; a reply on the last
        # level shown opens its own sub-thread (its "Continue this thread"),
        # which again shows MAX_DEPTH levels, and so on down.
        depth = self.depth_of(node)
        anchor_depth = 1 + (depth - 1) // (MAX_DEPTH - 1) * (MAX_DEPTH - 1)
        if anchor_depth > 1:
            while depth > anchor_depth:
                node, depth = node.parent, depth - 1
            return Place(anchor_id=node.id)
        top = self.top_of(node)
        return Place(page=next((n for n, page in enumerate(self.pages, 1) if top in page), 1))

    def page(self, number: int) -> ThreadView:
        branches = self.pages[number - 1] if 0 < number <= len(self.pages) else []
        return ThreadView(
            branches=branches, notes=self.notes if number == 1 else [], page=number,
            has_more=number < len(self.pages), thread=self,
        )

    def top_of(self, node: Node) -> Node:
        while node.parent is not None:
            node = node.parent
        return node

    def sub_thread(self, anchor_id: int) -> ThreadView:
        node = self.nodes[anchor_id]
        return ThreadView(branches=[node], notes=[], sub_thread=node, thread=self)

    def shown_ids(self, view: ThreadView) -> list[int]:
        return [node.id for node in [*view.notes, *_shown(view.branches)]]


async def load(root: Post) -> Thread:
    """The tree of the thread under `root` (its circle loaded), in one query
    (and one more for likes under a question)."""
    circle_actor_id = root.circle.actor_id if root.circle_id else None
    # A reply is in its root's circle or in none (as status_entities._reply_counts
    # says): naming them lets the database walk the posts index on (circle_id, root_id, id).
    in_thread = Q(circle_id=None, root_id=root.id)
    if root.circle_id is not None:
        in_thread |= Q(circle_id=root.circle_id, root_id=root.id)
    rows = await Post.filter(in_thread).values_list(
        "id", "in_reply_to_id", "published_at", "deleted_at", "author_id"
    )
    nodes = {
        post_id: Node(
            id=post_id, parent_id=parent_id, published_at=published_at, deleted=deleted_at is not None,
            note=author_id == circle_actor_id,
        )
        for post_id, parent_id, published_at, deleted_at, author_id in rows
    }
    likes = {}
    if root.kind is PostKind.QUESTION:
        likes = await likes_service.counts_of([n.id for n in nodes.values() if n.parent_id == root.id])
    return Thread(root, nodes, likes)


async def fill(view: ThreadView) -> list[Post]:
    """Load the posts `view` shows (authors too), in one query; returns them."""
    thread = view.thread
    ids = thread.shown_ids(view)
    posts = await Post.filter(id__in=ids).select_related("author") if ids else []
    by_id = {post.id: post for post in posts}
    for post_id in ids:
        thread.nodes[post_id].post = by_id.get(post_id)
    return [by_id[post_id] for post_id in ids if post_id in by_id]


async def place_of(reply: Post) -> Place:
    """Where a reply shows (see Place); a thread's root is on its first page."""
    if reply.root_id is None:
        return Place()
    root = await Post.filter(id=reply.root_id).select_related("circle").first()
    if root is None:
        return Place()
    return (await load(root)).place_of(reply.id)


def _order(root: Post, likes: dict[int, int]):
    """Top-level replies: under a question the accepted answer first, then the
    most liked; otherwise (and then) oldest first."""
    if root.kind is not PostKind.QUESTION:
        return lambda node: node.key
    return lambda node: (node.id != root.accepted_answer_id, -likes.get(node.id, 0), node.key)


def _prune_deleted(tops: list[Node]) -> None:
    """Drop deleted replies with nothing left under them; a deleted reply
    with live replies stays, as a marker, so they keep their place."""
    for node in reversed(list(_walk(tops))):  # children before their parents
        node.children = [child for child in node.children if not child.deleted or child.children]
    tops[:] = [node for node in tops if not node.deleted or node.children]


def _walk(tops: list[Node], *, max_depth: int | None = None):
    """Every node under `tops`, parents before children (down to max_depth)."""
    stack = [(node, 1) for node in reversed(tops)]
    while stack:
        node, depth = stack.pop()
        yield node
        if max_depth is None or depth < max_depth:
            stack.extend((child, depth + 1) for child in reversed(node.children))


def _shown(branches: list[Node]) -> list[Node]:
    return list(_walk(branches, max_depth=MAX_DEPTH))


def _pages(tops: list[Node]) -> list[list[Node]]:
    """Whole branches, as many as fit in REPLY_PAGE_SIZE shown replies (at
    least one a page); the circle's notes do not count."""
    pages: list[list[Node]] = []
    page: list[Node] = []
    size = 0
    for branch in tops:
        branch_size = sum(1 for node in _shown([branch]) if not node.note)
        if page and size + branch_size > REPLY_PAGE_SIZE:
            pages.append(page)
            page, size = [], 0
        page.append(branch)
        size += branch_size
    if page:
        pages.append(page)
    return pages or [[]]
