"""Plain-Python models behind Rapport's insights. Imports nothing from Django."""
