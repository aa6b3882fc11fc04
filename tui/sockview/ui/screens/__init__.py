"""Screens pushed over the main view: one per module."""
