"""Offline, cited question answering over migration-policy reports."""
