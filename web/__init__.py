"""Everything for people and their apps: the built-in UI (web/html) and,
later, the Mastodon-compatible client API (web/mastodon). No ActivityStreams."""
