"""Reusable page parts: sidebar filters, KPI tiles, charts, empty states."""
