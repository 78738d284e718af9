"""Tables of the materials app."""
