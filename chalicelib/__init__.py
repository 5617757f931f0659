"""The interview engine behind the Chalice app (see DESIGN.md for the layers)."""
