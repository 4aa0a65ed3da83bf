"""`python -m analyse ...`: the command line in cli.py."""
import os
import sys

from .cli import main

try:
    sys.exit(main())
except BrokenPipeError:  # the output went into `head` or similar, which stopped reading
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(0)
