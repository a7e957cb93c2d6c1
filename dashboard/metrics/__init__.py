"""Metrics: pure functions over a warehouse connection and filters, returning Polars frames."""
