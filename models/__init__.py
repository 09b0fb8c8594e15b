"""The domain: tables, lifecycle states and the rules (models/services/).

Imports nothing else of ours; no web framework, no HTTP client, no network.
"""
