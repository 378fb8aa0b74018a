"""Tenang: a complaint-handling practice simulator (core package; never imports streamlit)."""
