"""ActivityStreams vocabulary: contexts, media types and constants."""

from __future__ import annotations

from models.posts import PostKind

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
# Defines `assertionMethod`, where the Ed25519 Multikey is published (FEP-521a);
# the same context Fedify uses, so JSON-LD readers keep the key.
DID_CONTEXT = "https://www.w3.org/ns/did/v1"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
# Both spellings of "public" that real servers send.
PUBLIC_ALIASES = frozenset({PUBLIC, "as:Public", "Public"})

ACTIVITY_JSON = "application/activity+json"
LD_JSON_AS = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
JRD_JSON = "application/jrd+json"

# Extra terms our documents use (FEP-1b12, Lemmy, Mastodon), as one inline context.
EXTENSIONS = {
    "sensitive": "as:sensitive",
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "postingRestrictedToMods": "https://join-lemmy.org/ns#postingRestrictedToMods",
    "featured": {"@id": "toot:featured", "@type": "@id"},
    "toot": "http://joinmastodon.org/ns#",
    "discoverable": "toot:discoverable",
    # Lemmy's: a deleted person's content goes with them.
    "removeData": "https://join-lemmy.org/ns#removeData",
    "indexable": "toot:indexable",
    "schema": "http://schema.org#",
    "PropertyValue": "schema:PropertyValue",
    "value": "schema:value",
    # A question's accepted answer, as schema.org's Question has it (Circles).
    "acceptedAnswer": {"@id": "schema:acceptedAnswer", "@type": "@id"},
    # Mobilizon's Event terms (meetings), as Mobilizon's own context spells them.
    "mz": "https://joinmobilizon.org/ns#",
    "ical": "http://www.w3.org/2002/12/cal/ical#",
    "timezone": {"@id": "mz:timezone", "@type": "schema:Text"},
    "joinMode": {"@id": "mz:joinMode", "@type": "mz:joinModeType"},
    "anonymousParticipationEnabled": {"@id": "mz:anonymousParticipationEnabled", "@type": "schema:Boolean"},
    "participantCount": {"@id": "mz:participantCount", "@type": "schema:Integer"},
    "isOnline": {"@id": "mz:isOnline", "@type": "schema:Boolean"},
    "location": {"@id": "schema:location", "@type": "schema:Place"},
    "maximumAttendeeCapacity": "schema:maximumAttendeeCapacity",
    "remainingAttendeeCapacity": "schema:remainingAttendeeCapacity",
    # The pairing a direct tutoring Note belongs to: Circles' own term (no
    # vocabulary has one; a URN squats nobody's domain). Others ignore it.
    "tutoring": "urn:circles:tutoring",
}

DOCUMENT_CONTEXT = [AS_CONTEXT, SECURITY_CONTEXT, DID_CONTEXT, MULTIKEY_CONTEXT, EXTENSIONS]


def is_activitypub_media_type(accept: str) -> bool:
    """Whether an Accept or Content-Type value names an ActivityPub JSON type."""
    value = accept.lower()
    if "application/activity+json" in value:
        return True
    return "application/ld+json" in value and "activitystreams" in value


def document(body: dict) -> dict:
    """A top-level JSON-LD document: our context first, then the body."""
    return {"@context": DOCUMENT_CONTEXT, **body}


# Hashtags that mark a top-level post's kind, both ways: people on Mastodon
# can ask a circle a question by tagging it #question.
KIND_TAGS = {PostKind.QUESTION: "#question", PostKind.REVIEW: "#peerreview", PostKind.REFLECTION: "#reflection"}
