"""The approval service: `netchange serve`, a web application and JSON API over the journal, plan store and policy."""
