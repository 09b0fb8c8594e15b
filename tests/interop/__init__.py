"""Interop tests: Circles against independent ActivityPub and HTTP Signature
implementations, over real HTTP on loopback."""
