"""Notices: the transactional outbox (filled in by the notify area)."""
