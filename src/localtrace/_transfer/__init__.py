"""Moving runs between a store and the outside: JSON lines (more formats go beside it)."""
