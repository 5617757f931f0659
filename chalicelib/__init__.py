"""The interview engine behind the Chalice app (see docs/architecture.md, "Layers")."""
