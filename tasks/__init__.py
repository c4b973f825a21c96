"""The change types (task plugins), one module each, registered under ``netchange.change_types``.

Templates live in ``tasks/templates/<change type>/<syntax>.j2``.
"""
