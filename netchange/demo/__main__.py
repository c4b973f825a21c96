"""``python -m netchange.demo``: what ``make demo`` runs."""

import sys

from netchange.demo._script import Demo

if __name__ == "__main__":
    sys.exit(Demo().main())
