"""Tables of the electrodes app."""
