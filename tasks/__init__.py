"""The change types (task plugins), one module each, registered under ``netchange.change_types``.

Installed as ``netchange.tasks`` (``package-dir`` in pyproject.toml). Templates live in
``tasks/templates/<change type>/<syntax>.j2``: each change type's templates are looked up in its own
package (:meth:`netchange.changetype._contract.ChangeType.template_package`).
"""
