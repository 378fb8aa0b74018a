"""Shared pieces of the Streamlit pages: resources, the signed-in user, role checks, strings."""
