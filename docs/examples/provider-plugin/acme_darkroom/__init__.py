"""An example Darkroom provider plug-in (docs/providers.md)."""
