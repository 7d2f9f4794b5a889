"""``/v1/chat/completions``: the wire types (``protocol``), the logic (``serving``), a
strategy's answers as a chat completion (``response``) and what a client's sampling
fields mean to a strategy (``sampling``)."""
