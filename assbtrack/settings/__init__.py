"""Layered settings: ``base`` (everything, from the environment), then ``dev``, ``test`` or ``production``."""
