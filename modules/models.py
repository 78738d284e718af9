"""Tables of the modules app."""
