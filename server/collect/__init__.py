"""collect domain."""
