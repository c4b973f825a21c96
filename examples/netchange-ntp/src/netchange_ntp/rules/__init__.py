"""The classifier rules of the lines ``ntp_server`` writes (entry point ``netchange.classifier_rules``)."""
