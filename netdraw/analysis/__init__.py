"""Analyses that run a model on real inputs: activation thumbnails (and, later, Zeiler & Fergus)."""
