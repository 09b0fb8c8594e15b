"""ActivityPub: vocabulary, conversions, signatures, safe fetching, inbox,
fan-out and delivery. No HTML, no templates."""
