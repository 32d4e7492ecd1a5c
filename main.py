"""`python main.py` is `kiosk run`: start the kiosk with the configured devices."""

import sys

from kiosk.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", *sys.argv[1:]]))
