"""Access-matrix entries, one module per domain. Each module defines ENTRIES."""
