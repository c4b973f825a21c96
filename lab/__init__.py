"""The lab: real, independent stand-ins for the perimeter's equipment, on this machine.

Each kind of device is a :class:`netchange.lab.component.LabComponent`; ``netchange lab up`` starts them,
writes a Nornir inventory for what it started and waits until every device answers.
"""
