"""Inward: analytics for internal customer service."""
