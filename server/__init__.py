"""Tandem: offline-first special-education data collection and parent partnership."""

__version__ = "0.1.0"
