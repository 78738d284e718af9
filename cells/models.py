"""Tables of the cells app."""
