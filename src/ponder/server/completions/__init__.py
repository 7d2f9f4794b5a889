"""``/v1/completions``: the wire types (``protocol``), the logic (``serving``), and a
legacy request answered through chat (``legacy``)."""
