"""netchange: run scripted changes on network and security equipment safely.

The spine of the framework: models, the plan pipeline, drivers, the command line. Change types
live in ``tasks``, the classifier in ``classifiers``, snapshots and restore in ``rollback`` and
the device stand-ins in ``lab``.
"""

__version__ = "0.1.0"
