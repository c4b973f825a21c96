"""Snapshots, rollback strategies, restore and its verification.

A snapshot is the running state of a host read just before its commit, stored durably (a
content-addressed file, fsynced) before the commit is sent, so that a crash at any later moment
still leaves what is needed to put the device back (``netchange recover``).
"""

from netchange.rollback.restore import (
    RestoreReport,
    alarm_text,
    config_changes,
    foreign_lines,
    restore_host,
    same_state,
    verify_host,
)
from netchange.rollback.snapshots import SnapshotStore

__all__ = [
    "RestoreReport",
    "SnapshotStore",
    "alarm_text",
    "config_changes",
    "foreign_lines",
    "restore_host",
    "same_state",
    "verify_host",
]
