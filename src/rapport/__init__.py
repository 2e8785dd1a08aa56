"""Rapport: an open-source, AI-assisted CRM for small businesses."""

__version__ = "0.1.0"
