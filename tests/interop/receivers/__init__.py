"""Receiver conformance: models of how Mastodon and Lemmy take in what they
receive (mastodon.py, lemmy.py), and stories that pass everything a served
Circles delivers to two Fedify peers through them (test_*.py)."""
