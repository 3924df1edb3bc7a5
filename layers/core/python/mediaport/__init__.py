"""Mediaport's domain: policies, verification, state transitions, imaging, storage."""
