"""``make demo``: the whole job on the built-in lab (``python -m netchange.demo``)."""
