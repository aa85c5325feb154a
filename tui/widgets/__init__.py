"""Widgets of the review app: they render core values and post messages."""
