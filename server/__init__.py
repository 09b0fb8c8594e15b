"""Composition root: configuration, the app factory, the CLI and the worker."""
