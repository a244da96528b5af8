"""`python -m graders`: the nngrade command line, for installs without the console script."""

from graders.engine.cli import entry_point

entry_point()
