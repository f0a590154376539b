"""The version of rnnlab, in a module of its own so that any layer can read it without importing
the package root (which reaches up to the saved models)."""

__version__ = "0.1.0"
