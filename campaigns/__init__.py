"""Pushdeck's one Django app: campaigns and everything they need to be sent."""
