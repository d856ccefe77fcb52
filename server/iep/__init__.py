"""iep domain."""
