"""netchange-ntp: the ``ntp_server`` change type (NTP servers of IOS-style switches)."""
