"""Shared test harness: real PostgreSQL, the real app over HTTP, data factories."""
