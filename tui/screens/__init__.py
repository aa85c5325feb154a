"""Screens and modal dialogs of the review app."""
