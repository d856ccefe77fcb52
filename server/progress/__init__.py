"""progress domain."""
