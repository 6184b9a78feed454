"""`python -m robot`: the `vcs-robot` command."""
import sys

from robot.commands import main

sys.exit(main())
