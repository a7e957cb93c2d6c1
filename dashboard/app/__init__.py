"""Streamlit app: `main.py` (navigation + global filters) and `app_pages/` (one file a page).
Layout and widgets only: numbers come from `dashboard.metrics` through `data.py`."""
