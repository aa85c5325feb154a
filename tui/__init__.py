"""Textual app and command-line front end for impact-review."""
