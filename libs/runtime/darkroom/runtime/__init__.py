"""Darkroom."""
