"""Plugg.to HTTP client and payloads. Knows HTTP and JSON only."""
