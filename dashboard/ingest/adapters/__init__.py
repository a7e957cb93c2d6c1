"""Vendor adapters: one small module per export layout, each declaring `ADAPTER` or `ADAPTERS`."""
