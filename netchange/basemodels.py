"""The two bases of every netchange pydantic model, in a module that defines nothing else.

Kept apart from :mod:`netchange.models` (the change request's models) so that reading the policy,
the settings, a platform profile or a plan document does not build the request models first:
about 0.07 s of pydantic class building and docstring reading that ``window`` and ``show`` paid
for nothing (start-up, issue 20 item 5).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class FrozenModel(BaseModel):
    """Base for data read from a file (settings, policy, platform profiles, rules): immutable once
    loaded, and a key it does not know is an error, not a silently ignored option."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class StrictModel(FrozenModel):
    """Base for every input model: unknown keys are errors, values are not coerced silently."""

    model_config = ConfigDict(str_strip_whitespace=False)


# Attribute docstrings become the fields' descriptions: in the JSON Schema editors validate with
# (``netchange types --schema``) and in docs/change-request-format.md. Subclasses inherit the
# setting; it is set after the class is made because pydantic reads the source of the class that
# declares it, and this one has no fields: that read walked every loaded module (~15 ms of the
# start of every command that reads a policy or a plan).
StrictModel.model_config["use_attribute_docstrings"] = True
