// A Fedify (https://fedify.dev) actor for tests/interop/test_fedify.py.
//
// One Person, "peer", with an RSA key (HTTP Signatures) and an Ed25519 key
// (Object Integrity Proofs), served by Fedify over plain HTTP on 127.0.0.1.
// Fedify does all the ActivityPub work: WebFinger lookup, actor fetch,
// signing (RFC 9421 first, draft-cavage on refusal), signature verification
// of what arrives. This file only adds a recorder and a control API:
//
//   GET  /_peer/state   what arrived (raw inbox requests and the activities
//                       Fedify verified and dispatched), what the peer fetched
//                       and sent, as JSON
//   POST /_peer/lookup  {"handle": "@circle@host:port"}: look an actor up
//                       (WebFinger + actor document) and say what Fedify read
//   POST /_peer/follow  {"handle": ...}: look the circle up and Follow it
//   POST /_peer/post    {"content": "..."}: Create(Note) to the circle
//   POST /_peer/reply   {"inReplyTo": "<post id>", "content": "..."}: a reply
//   POST /_peer/update  {"note": "<id>", "content": "..."}: Update(Note)
//   POST /_peer/delete  {"note": "<id>"}: Delete(Tombstone)
//   POST /_peer/leave   Undo the Follow
//   POST /_peer/vote    {"question": "<id>", "choice": "Yes"}: answer a poll
//                       as Mastodon does (tests/interop/receivers/)
//
// `/_peer/post` also takes {"tags": ["#question"], "mastodon": true}: a post
// addressed and tagged as Mastodon sends one that mentions a group.
//
// Run with Node >= 22: `node peer.mjs`. Environment: CIRCLES_ORIGIN (the
// Circles server under test, http://127.0.0.1:PORT), PEER_LOG_LEVEL
// (LogTape level for Fedify's own log, default "info"), PEER_SOFTWARE
// ("mastodon" or "lemmy": the NodeInfo the peer serves, as that server
// does, and for "lemmy" only the signatures and digests Lemmy takes;
// unset, it serves no NodeInfo). Prints `PEER_LISTENING <origin>` once it
// serves; the port is chosen by the OS.

import { AsyncLocalStorage } from "node:async_hooks";
import { createHash, randomUUID } from "node:crypto";
import http from "node:http";

import { Temporal } from "@js-temporal/polyfill";
import { configure, getConsoleSink } from "@logtape/logtape";
import { createFederation, generateCryptoKeyPair, MemoryKvStore } from "@fedify/fedify";
import {
  Activity, Create, Delete, Endpoints, Follow, Hashtag, isActor, Mention, Note, Person, PUBLIC_COLLECTION, Tombstone,
  Undo, Update,
} from "@fedify/vocab";

const CIRCLES_ORIGIN = process.env.CIRCLES_ORIGIN;
if (!CIRCLES_ORIGIN) throw new Error("set CIRCLES_ORIGIN to the Circles server under test");
const circlesHost = new URL(CIRCLES_ORIGIN).host;
const IDENTIFIER = "peer";
const SOFTWARE = process.env.PEER_SOFTWARE ?? "";
if (!["", "mastodon", "lemmy"].includes(SOFTWARE)) throw new Error(`PEER_SOFTWARE=${SOFTWARE}: mastodon or lemmy`);

await configure({
  contextLocalStorage: new AsyncLocalStorage(),
  sinks: { console: getConsoleSink() },
  loggers: [
    { category: "fedify", lowestLevel: process.env.PEER_LOG_LEVEL ?? "info", sinks: ["console"] },
    { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["console"] },
  ],
});

// --- what the test reads back --------------------------------------------------

const state = {
  inboxRequests: [], // every POST to an inbox: path, signature scheme, status, body
  received: [], // activities that passed Fedify's verification and reached the listener
  fetches: [], // every outgoing request Fedify made: method, url, status, scheme
  sent: [], // activities the control API made the peer send
  notes: {}, // id -> Note JSON-LD, served at their ids
};

// Fedify resolves an acct: handle by WebFinger over https only. The Circles
// under test speaks plain http on loopback (as it does behind a TLS proxy),
// so for that one origin's /.well-known/webfinger the peer downgrades the
// scheme; everything after (the actor document, inboxes, keys) uses the http
// ids Circles publishes, unchanged. Every outgoing request is also recorded.
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  let request = new Request(input, init);
  const url = new URL(request.url);
  if (url.protocol === "https:" && url.host === circlesHost && url.pathname === "/.well-known/webfinger") {
    url.protocol = "http:";
    request = new Request(url, request);
  }
  // A test peer talks to loopback only: anything else (a JSON-LD context
  // Fedify did not preload, say) is refused here and shows in the record.
  const loopback = url.hostname.startsWith("127.") || url.hostname === "localhost" || url.hostname === "[::1]";
  const entry = {
    method: request.method,
    url: request.url,
    scheme: request.headers.has("signature-input") ? "rfc9421" : request.headers.has("signature") ? "cavage" : null,
    body: request.method === "POST" ? await request.clone().text() : undefined,
  };
  state.fetches.push(entry);
  if (!loopback) {
    entry.error = "refused: not a loopback address";
    throw new TypeError(`the test peer fetches loopback addresses only, not ${request.url}`);
  }
  try {
    const response = await realFetch(request);
    entry.status = response.status;
    if (!response.ok) entry.responseBody = (await response.clone().text()).slice(0, 2000);
    return response;
  } catch (error) {
    entry.error = String(error);
    throw error;
  }
};

// --- the server -----------------------------------------------------------------

const keyPairs = [
  await generateCryptoKeyPair("RSASSA-PKCS1-v1_5"),
  await generateCryptoKeyPair("Ed25519"),
];

const server = http.createServer((req, res) => {
  handle(req, res).catch((error) => {
    console.error("peer: request failed", error);
    if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
    res.end(String(error?.stack ?? error));
  });
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const ORIGIN = `http://127.0.0.1:${server.address().port}`;

const federation = createFederation({
  kv: new MemoryKvStore(),
  origin: ORIGIN,
  allowPrivateAddress: true, // loopback peers; never outside tests
});

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== IDENTIFIER) return null;
    const keys = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: "Fedify peer",
      summary: "A Fedify actor in Circles' interop tests.",
      url: ctx.getActorUri(identifier),
      inbox: ctx.getInboxUri(identifier),
      outbox: ctx.getOutboxUri(identifier), // Lemmy reads no Person without one
      followers: ctx.getFollowersUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      publicKey: keys[0].cryptographicKey,
      assertionMethods: keys.map((key) => key.multikey),
    });
  })
  .setKeyPairsDispatcher(async (_ctx, identifier) => (identifier === IDENTIFIER ? keyPairs : []));

// Empty collections: Lemmy requires a Person's `outbox` (0.19.20
// crates/apub/src/protocol/objects/person.rs:32), Mastodon addresses a
// person's public posts to their followers.
federation.setOutboxDispatcher("/users/{identifier}/outbox", async () => ({ items: [] }));
federation.setFollowersDispatcher("/users/{identifier}/followers", async () => ({ items: [] }));

federation.setObjectDispatcher(Note, "/notes/{id}", async (ctx, values) => {
  const json = state.notes[ctx.getObjectUri(Note, values).href];
  return json ? await Note.fromJsonLd(json, { contextLoader: ctx.contextLoader }) : null;
});

federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Activity, async (ctx, activity) => {
    state.received.push({
      type: activity.constructor.name,
      id: activity.id?.href ?? null,
      actor: activity.actorId?.href ?? null,
      recipient: ctx.recipient,
      json: await activity.toJsonLd({ contextLoader: ctx.contextLoader }),
    });
  })
  .onError((_ctx, error) => {
    console.error("peer: inbox listener error", error);
  });

async function handle(req, res) {
  const url = new URL(req.url, ORIGIN);
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const body = Buffer.concat(chunks);
  let response;
  if (url.pathname.startsWith("/_peer/")) {
    response = await control(req.method, url.pathname, body);
  } else if (req.method === "GET" && nodeInfo(url.pathname)) {
    response = json(nodeInfo(url.pathname));
  } else {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
    }
    const request = new Request(url, {
      method: req.method,
      headers,
      body: req.method === "GET" || req.method === "HEAD" ? undefined : body,
    });
    const refusal = req.method === "POST" ? lemmyTransportRefusal(headers, body) : null;
    response = refusal ? json({ error: refusal }, 400) : await federation.fetch(request, {
      contextData: undefined,
      onNotFound: () => new Response("Not found", { status: 404 }),
      onNotAcceptable: () => new Response("Not acceptable", { status: 406 }),
    });
    if (SOFTWARE && req.method === "GET" && response.ok && url.pathname.startsWith("/notes/")) {
      response = await withFullPublicAddress(response);
    }
    if (req.method === "POST" && /(^|\/)inbox$/.test(url.pathname)) {
      let parsed;
      try {
        parsed = JSON.parse(body.toString("utf8"));
      } catch {
        parsed = body.toString("utf8").slice(0, 2000);
      }
      state.inboxRequests.push({
        path: url.pathname,
        scheme: headers.has("signature-input") ? "rfc9421" : headers.has("signature") ? "cavage" : null,
        keyId: keyIdOf(headers),
        status: response.status,
        responseBody: response.ok ? undefined : (await response.clone().text()).slice(0, 2000),
        body: parsed,
      });
    }
  }
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(Buffer.from(await response.arrayBuffer()));
}

// Fedify serves its objects with the public address compacted to
// "as:Public"; Mastodon and Lemmy write the full IRI (Mastodon 4.6
// app/lib/activitypub/tag_manager.rb:12-14), which is what a Lemmy 0.19
// receiver compares with (crates/apub/src/activities/mod.rs:127-133).
async function withFullPublicAddress(response) {
  const body = await response.json();
  for (const field of ["to", "cc"]) {
    const value = body[field];
    if (value === "as:Public") body[field] = PUBLIC_COLLECTION.href;
    if (Array.isArray(value)) body[field] = value.map((v) => (v === "as:Public" ? PUBLIC_COLLECTION.href : v));
  }
  return new Response(JSON.stringify(body), { status: response.status, headers: response.headers });
}

// What Lemmy's federation library refuses before reading an activity: a
// body without a matching `Digest` header (activitypub-federation 0.5.11
// src/actix_web/inbox.rs:30) and any signature but draft-cavage's
// (src/http_signatures.rs:180-220, http_signature_normalization); Lemmy
// answers 400 (crates/utils/src/error.rs:234-242). Circles then signs again
// the other way ("double knock").
function lemmyTransportRefusal(headers, body) {
  if (SOFTWARE !== "lemmy") return null;
  const digest = headers.get("digest");
  if (!digest) return "ActivityBodyDigestInvalid: no Digest header";
  const sha256 = createHash("sha256").update(body).digest("base64");
  if (!digest.split(",").some((part) => part.trim() === `SHA-256=${sha256}`)) return "ActivityBodyDigestInvalid";
  if (headers.has("signature-input") || !/keyId="/.test(headers.get("signature") ?? "")) {
    return "ActivitySignatureInvalid: not a draft-cavage signature";
  }
  return null;
}

// The key that signed a request: Mastodon and Lemmy take the activity only
// from the actor who owns it.
function keyIdOf(headers) {
  const input = headers.get("signature-input");
  const cavage = headers.get("signature");
  const match = input ? /;keyid="([^"]+)"/.exec(input) : cavage ? /keyId="([^"]+)"/.exec(cavage) : null;
  return match ? match[1] : null;
}

// NodeInfo as each server serves it (Mastodon: 2.0, app/serializers/
// node_info/serializer.rb; Lemmy: 2.1, crates/routes/src/nodeinfo.rs), so
// Circles classifies this host as it would the real one.
function nodeInfo(path) {
  if (SOFTWARE === "") return null;
  const schema = SOFTWARE === "mastodon" ? "2.0" : "2.1";
  if (path === "/.well-known/nodeinfo") {
    return { links: [{ rel: `http://nodeinfo.diaspora.software/ns/schema/${schema}`, href: `${ORIGIN}/nodeinfo/${schema}` }] };
  }
  if (path !== `/nodeinfo/${schema}`) return null;
  return {
    version: schema,
    software: { name: SOFTWARE, version: SOFTWARE === "mastodon" ? "4.5.0" : "0.19.20" },
    protocols: ["activitypub"],
    services: { inbound: [], outbound: [] },
    openRegistrations: false,
    usage: { users: { total: 1 }, localPosts: 0 },
    metadata: {},
  };
}

// --- the control API ---------------------------------------------------------------

function json(body, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

let circle = null; // the Group the peer followed
let lastFollow = null; // and the Follow it sent

async function control(method, path, body) {
  const ctx = federation.createContext(new URL(ORIGIN), undefined);
  const args = body.length ? JSON.parse(body.toString("utf8")) : {};
  if (method === "GET" && path === "/_peer/state") return json({ origin: ORIGIN, ...state });
  if (method !== "POST") return json({ error: "not found" }, 404);
  try {
    if (path === "/_peer/lookup") return json({ found: (await lookup(ctx, args.handle))?.summary ?? null });
    if (path === "/_peer/follow") return json(await follow(ctx, args.handle));
    if (path === "/_peer/post") return json(await post(ctx, args.content, null, args));
    if (path === "/_peer/reply") return json(await post(ctx, args.content, args.inReplyTo, args));
    if (path === "/_peer/vote") return json(await vote(ctx, args.question, args.choice));
    if (path === "/_peer/update") return json(await update(ctx, args.note, args.content));
    if (path === "/_peer/delete") return json(await remove(ctx, args.note));
    if (path === "/_peer/leave") return json(await leave(ctx));
  } catch (error) {
    return json({ error: String(error?.stack ?? error) }, 500);
  }
  return json({ error: "not found" }, 404);
}

async function lookup(ctx, handle) {
  const found = await ctx.lookupObject(handle);
  if (found == null) return null;
  if (!isActor(found)) return { found, summary: { type: found.constructor.name, id: found.id?.href ?? null } };
  const summary = {
    type: found.constructor.name,
    id: found.id?.href ?? null,
    preferredUsername: found.preferredUsername?.toString() ?? null,
    name: found.name?.toString() ?? null,
    inbox: found.inboxId?.href ?? null,
    sharedInbox: found.endpoints?.sharedInbox?.href ?? null,
    followers: found.followersId?.href ?? null,
    publicKeys: (await Array.fromAsync(found.getPublicKeys())).map((key) => key.id?.href),
    assertionMethods: (await Array.fromAsync(found.getAssertionMethods())).map((key) => key.id?.href),
  };
  return { found, summary };
}

async function follow(ctx, handle) {
  const result = await lookup(ctx, handle);
  if (result == null || !isActor(result.found)) return { found: result?.summary ?? null };
  circle = result.found;
  const activity = new Follow({
    id: new URL(`/activities/${randomUUID()}`, ORIGIN),
    actor: ctx.getActorUri(IDENTIFIER),
    object: circle.id,
    to: circle.id,
  });
  await send(ctx, activity);
  lastFollow = activity;
  return { found: result.summary, follow: activity.id.href };
}

async function leave(ctx) {
  if (lastFollow == null) throw new Error("follow a circle first");
  const activity = new Undo({
    id: new URL(`/activities/${randomUUID()}`, ORIGIN),
    actor: ctx.getActorUri(IDENTIFIER),
    object: lastFollow,
    to: circle.id,
  });
  await send(ctx, activity);
  return { undo: activity.id.href };
}

async function post(ctx, content, inReplyTo, { tags = [], mastodon = false } = {}) {
  if (circle == null) throw new Error("follow a circle first");
  const noteId = ctx.getObjectUri(Note, { id: randomUUID() });
  // Mastodon addresses a public post that mentions a Group to the public,
  // its author's followers, the group and the group's followers, and tags
  // the mention (Mastodon 4.6 app/lib/activitypub/tag_manager.rb:171-174,
  // 203-233); it knows no `audience`.
  const addressing = mastodon
    ? {
      to: PUBLIC_COLLECTION,
      ccs: [ctx.getFollowersUri(IDENTIFIER), circle.id, ...(circle.followersId ? [circle.followersId] : [])],
    }
    : {
      to: circle.id,
      ccs: [PUBLIC_COLLECTION, ...(circle.followersId ? [circle.followersId] : [])],
      audience: circle.id,
    };
  const mention = new Mention({ href: circle.id, name: `@${circle.preferredUsername}@${new URL(circle.id).host}` });
  const hashtags = tags.map((name) => new Hashtag({ href: new URL(`/tags/${name.replace(/^#/, "")}`, ORIGIN), name }));
  const note = new Note({
    id: noteId,
    attribution: ctx.getActorUri(IDENTIFIER),
    content,
    replyTarget: inReplyTo ? new URL(inReplyTo) : null,
    published: Temporal.Now.instant(),
    tags: [...(mastodon ? [mention] : []), ...hashtags],
    ...addressing,
  });
  state.notes[noteId.href] = await note.toJsonLd({ contextLoader: ctx.contextLoader });
  const activity = new Create({
    id: new URL(`/activities/${randomUUID()}`, ORIGIN),
    actor: ctx.getActorUri(IDENTIFIER),
    object: note,
    published: note.published,
    ...addressing,
  });
  await send(ctx, activity);
  return { note: noteId.href, create: activity.id.href };
}

let votes = 0;

// A vote as Mastodon sends it: one Create of a Note named after the option,
// in reply to the poll, with no content, to the poll's author's own inbox
// (Mastodon 4.6 app/services/vote_service.rb:57-64,
// app/serializers/activitypub/vote_serializer.rb).
async function vote(ctx, questionId, choice) {
  const question = await ctx.lookupObject(questionId);
  if (question == null) throw new Error(`cannot fetch the poll ${questionId}`);
  const author = await ctx.lookupObject(question.attributionId);
  if (author == null || !isActor(author)) throw new Error(`cannot fetch the author of ${questionId}`);
  const voter = ctx.getActorUri(IDENTIFIER);
  votes += 1;
  const note = new Note({
    id: new URL(`${voter.href}#votes/${votes}`),
    name: choice,
    attribution: voter,
    replyTarget: new URL(questionId),
    to: author.id,
  });
  const activity = new Create({ id: new URL(`${voter.href}#votes/${votes}/activity`), actor: voter, to: author.id, object: note });
  await ctx.sendActivity({ identifier: IDENTIFIER }, author, activity, { immediate: true });
  state.sent.push({ type: "Create", id: activity.id.href, vote: choice });
  return { vote: activity.id.href, author: author.id.href };
}

async function update(ctx, noteId, content) {
  const stored = state.notes[noteId];
  if (stored == null) throw new Error(`no note ${noteId} here`);
  const note = (await Note.fromJsonLd(stored, { contextLoader: ctx.contextLoader })).clone({
    content,
    updated: Temporal.Now.instant(),
  });
  state.notes[noteId] = await note.toJsonLd({ contextLoader: ctx.contextLoader });
  const activity = new Update({
    id: new URL(`/activities/${randomUUID()}`, ORIGIN),
    actor: ctx.getActorUri(IDENTIFIER),
    object: note,
    to: note.toId,
    ccs: note.ccIds,
  });
  await send(ctx, activity);
  return { update: activity.id.href };
}

async function remove(ctx, noteId) {
  if (state.notes[noteId] == null) throw new Error(`no note ${noteId} here`);
  delete state.notes[noteId];
  const activity = new Delete({
    id: new URL(`/activities/${randomUUID()}`, ORIGIN),
    actor: ctx.getActorUri(IDENTIFIER),
    object: new Tombstone({ id: new URL(noteId) }),
    to: circle.id,
    ccs: [PUBLIC_COLLECTION],
  });
  await send(ctx, activity);
  return { delete: activity.id.href };
}

async function send(ctx, activity) {
  // No message queue: Fedify delivers now and throws if the inbox refuses.
  await ctx.sendActivity({ identifier: IDENTIFIER }, circle, activity, { immediate: true });
  state.sent.push({ type: activity.constructor.name, id: activity.id.href });
}

console.log(`PEER_LISTENING ${ORIGIN}`);
