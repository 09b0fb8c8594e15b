"""Turning hostile remote JSON into typed inputs."""

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from federation import parse, signatures
from models.actors import ActorKind

PEM = signatures.public_key_to_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key())

ACTOR = {
    "id": "https://remote.example/users/rita", "type": "Person", "preferredUsername": "rita",
    "name": "Rita", "summary": "<p>hi<script>x()</script></p>", "inbox": "https://remote.example/users/rita/inbox",
    "endpoints": {"sharedInbox": "https://remote.example/inbox"}, "url": "https://remote.example/@rita",
    "publicKey": {"id": "https://remote.example/users/rita#main-key", "owner": "https://remote.example/users/rita",
                  "publicKeyPem": PEM},
}


def test_actor_document_becomes_input():
    data = parse.as_to_actor_input(ACTOR, fetched_from="https://remote.example/users/rita")
    assert data.kind is ActorKind.PERSON and data.username == "rita" and data.domain == "remote.example"
    assert data.shared_inbox_url == "https://remote.example/inbox"
    assert [k.key_id for k in data.keys] == ["https://remote.example/users/rita#main-key"]


@pytest.mark.parametrize("change, reason", [
    ({"id": "https://evil.example/users/rita"}, "another host"),
    ({"type": "Tortoise"}, "unsupported actor type"),
    ({"inbox": "javascript:alert(1)"}, "inbox"),
    ({"inbox": None}, "inbox"),
])
def test_bad_actor_documents_are_refused(change, reason):
    with pytest.raises(parse.InvalidDocument, match=reason):
        parse.as_to_actor_input({**ACTOR, **change}, fetched_from="https://remote.example/users/rita")


def test_unreadable_keys_are_dropped():
    doc = {**ACTOR, "publicKey": {**ACTOR["publicKey"], "publicKeyPem": "garbage"}}
    assert parse.as_to_actor_input(doc, fetched_from=ACTOR["id"]).keys == ()


def test_objects_attributed_to_someone_on_another_host_are_forgeries():
    with pytest.raises(parse.InvalidDocument, match="another host"):
        parse.as_to_post_input({**NOTE, "attributedTo": "https://victim.example/users/vic"}, local_circle_uris=set())


def test_hosts_and_types_of_odd_shapes():
    assert parse.host_of("https://x.example:abc/1") == "" and parse.host_of("https://[::1/u") == ""
    assert parse.host_of("http://127.0.0.2:8000/c/x") == "127.0.0.2:8000"
    assert parse.type_of({"type": ["Note", "Other"]}) == "Note" and parse.type_of({"type": 5}) is None


def test_keys_of_another_owner_or_host_are_dropped():
    doc = {**ACTOR, "publicKey": {**ACTOR["publicKey"], "id": "https://evil.example/k", "owner": ACTOR["id"]}}
    assert parse.as_to_actor_input(doc, fetched_from=ACTOR["id"]).keys == ()
    doc = {**ACTOR, "publicKey": {**ACTOR["publicKey"], "owner": "https://remote.example/users/other"}}
    assert parse.as_to_actor_input(doc, fetched_from=ACTOR["id"]).keys == ()


NOTE = {"id": "https://remote.example/notes/1", "type": "Note", "attributedTo": ACTOR["id"], "content": "<p>hello</p>",
        "to": ["https://www.w3.org/ns/activitystreams#Public"], "cc": ["https://circles.test/c/readers"],
        "inReplyTo": "https://circles.test/posts/5", "contentMap": {"fr": "<p>bonjour</p>"}}


def test_note_becomes_post_input_addressed_to_a_local_circle():
    data = parse.as_to_post_input(NOTE, local_circle_uris={"https://circles.test/c/readers"})
    assert data.circle_uri == "https://circles.test/c/readers"
    assert data.in_reply_to_uri == "https://circles.test/posts/5"
    assert data.content_html == "<p>hello</p>" and data.language == "fr" and data.title == ""


def test_a_page_keeps_its_title_and_unknown_types_become_link_posts():
    page = parse.as_to_post_input({**NOTE, "type": "Page", "name": "Week 1"}, local_circle_uris=set())
    assert page.title == "Week 1" and page.circle_uri is None
    video = parse.as_to_post_input(
        {"id": "https://remote.example/videos/1", "type": "Video", "attributedTo": ACTOR["id"],
         "name": "A <b>talk</b>", "url": "https://remote.example/w/1"}, local_circle_uris=set())
    assert video.content_html.startswith('<p><a href="https://remote.example/w/1">A &lt;b&gt;talk&lt;/b&gt;</a></p>')


@pytest.mark.parametrize("change", [{"id": "ftp://x/1"}, {"attributedTo": None}, {"attributedTo": "file:///etc/passwd"}])
def test_bad_objects_are_refused(change):
    with pytest.raises(parse.InvalidDocument):
        parse.as_to_post_input({**NOTE, **change}, local_circle_uris=set())


def test_peertube_lists_person_and_channel_as_authors():
    video = {"id": "https://tube.example/videos/1", "type": "Video", "name": "Talk", "url": "https://tube.example/w/1",
             "attributedTo": [{"type": "Group", "id": "https://tube.example/c/chan"},
                              {"type": "Person", "id": "https://tube.example/a/bob"}]}
    assert parse.as_to_post_input(video, local_circle_uris=set()).author_uri == "https://tube.example/a/bob"


def test_titled_notes_without_content_and_attachments_are_kept_visible():
    note = {**{k: v for k, v in NOTE.items() if k != "contentMap"}, "content": "", "name": "My <b>photo</b>",
            "attachment": [{"type": "Document", "url": "https://remote.example/img.png", "name": "a cat"},
                           {"type": "Document", "url": "javascript:alert(1)"}]}
    data = parse.as_to_post_input(note, local_circle_uris=set())
    assert data.content_html.startswith("<p>My &lt;b&gt;photo&lt;/b&gt;</p>")
    assert '<a href="https://remote.example/img.png">a cat</a>' in data.content_html
    assert "javascript" not in data.content_html


QUESTION_PAGE = {
    "id": "https://remote.example/posts/1", "type": "Page", "name": "Why None?",
    "attributedTo": "https://remote.example/users/rita", "content": "<p>?</p>",
}


def test_an_accepted_answer_is_read_and_a_malformed_one_ignored():
    data = parse.as_to_post_input({**QUESTION_PAGE, "acceptedAnswer": "https://b.example/posts/2"}, local_circle_uris=set())
    assert data.accepted_answer_uri == "https://b.example/posts/2"
    for bad in ("javascript:alert(1)", {"id": 5}, ["x"], "x" * 3000):
        data = parse.as_to_post_input({**QUESTION_PAGE, "acceptedAnswer": bad}, local_circle_uris=set())
        assert data.accepted_answer_uri is None and data.title == "Why None?"


def test_a_post_tagged_question_is_a_question():
    from models.posts import PostKind

    tagged = {**QUESTION_PAGE, "tag": [{"type": "Hashtag", "name": "#Question"}]}
    assert parse.as_to_post_input(tagged, local_circle_uris=set()).kind is PostKind.QUESTION
    assert parse.as_to_post_input(QUESTION_PAGE, local_circle_uris=set()).kind is PostKind.DISCUSSION
    reply = {**tagged, "inReplyTo": "https://remote.example/posts/0"}
    assert parse.as_to_post_input(reply, local_circle_uris=set()).kind is PostKind.DISCUSSION
    odd_tags = {**QUESTION_PAGE, "tag": [None, "x", {"type": "Hashtag", "name": 5}, {"type": "Mention"}]}
    assert parse.as_to_post_input(odd_tags, local_circle_uris=set()).kind is PostKind.DISCUSSION


def test_a_questions_options_are_read_and_junk_dropped():
    question = {**QUESTION_PAGE, "type": "Question", "endTime": "2026-12-01T10:00:00Z",
                "oneOf": [{"type": "Note", "name": "Yes"}, {"name": " No "}, {"name": ""}, {"name": 5}, "x",
                          {"type": "Note", "name": "Yes"}]}
    poll = parse.as_to_post_input(question, local_circle_uris=set()).poll
    assert poll.options == ("Yes", "No") and poll.closes_at.isoformat() == "2026-12-01T10:00:00+00:00"
    assert poll.closed_at is None
    closed = {**question, "closed": "2026-11-30T09:00:00Z"}
    assert parse.as_to_post_input(closed, local_circle_uris=set()).poll.closed_at.day == 30
    many = {**question, "oneOf": None, "anyOf": [{"name": f"o{n}"} for n in range(50)]}
    assert len(parse.as_to_post_input(many, local_circle_uris=set()).poll.options) == 20
    assert parse.as_to_post_input({**question, "oneOf": []}, local_circle_uris=set()).poll is None
    assert parse.as_to_post_input(QUESTION_PAGE, local_circle_uris=set()).poll is None


def test_far_dates_and_urls_with_line_breaks_are_not_taken():
    event = {**QUESTION_PAGE, "type": "Event", "startTime": "9999-12-31T23:00:00Z", "endTime": "9999-12-31T23:30:00Z"}
    data = parse.as_to_post_input(event, local_circle_uris=set())
    assert data.meeting is None  # no usable start: kept as a plain post
    with pytest.raises(parse.InvalidDocument, match="control characters"):
        parse.as_to_post_input({**QUESTION_PAGE, "id": "https://remote.example/posts/1\nEND:VEVENT"},
                                 local_circle_uris=set())
    with pytest.raises(parse.InvalidDocument, match="control characters"):
        parse.as_to_post_input({**QUESTION_PAGE, "url": "https://remote.example/x\r\nBEGIN:VEVENT"},
                                 local_circle_uris=set())
