"""Fleet-scale benchmarks of netchange (issue 8): ``python -m bench``.

B1 plan and B2 apply drive the ``netchange`` command line against a lab of fake-switches and
compare with a hand-written netmiko + thread-pool floor; B3 measures the engine's own CPU per
host; B4 an offline plan over a generated inventory; B5 the same VLAN change with Ansible.
"""
