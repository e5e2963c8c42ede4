"""Importers: existing deployment files -> a complete, compilable environments folder."""
