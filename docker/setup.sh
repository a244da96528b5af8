#!/usr/bin/env bash
# Gradescope runs this once, as root, while building the autograder image: the zip made by
# `nngrade build` is unpacked into /autograder/source and this script sits at its root.
#
# nngrade is not pip-installed: site-packages must stay readable to the sandbox users, who run
# the Python that executes student code, while the graders and reference solutions must not be.
# The source tree stays where Gradescope put it, run_autograder puts it on PYTHONPATH, and this
# script makes it readable by root only. Each step is skipped when its result is already there,
# so the script can be rerun, and the tests run it on a machine that has everything installed.
set -euo pipefail

SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Installed packages must be world-readable whatever umask the image was built with.
umask 022

if ! python3 -m pip --version >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends python3 python3-pip
fi

# requirements.txt is written by `nngrade build` from pyproject's [project.dependencies]; pip
# does nothing (and needs no network) when every requirement is already satisfied.
# PEP 668 marks newer Ubuntu Pythons as externally managed; this image belongs to the autograder.
PIP_BREAK_SYSTEM_PACKAGES=1 PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 \
  python3 -m pip install --quiet -r "$SOURCE/requirements.txt"

# Compiled once here rather than in every container, which starts from this image afresh.
python3 -m compileall -q "$SOURCE" >/dev/null

chown -R 0:0 "$SOURCE"
chmod -R go-rwx "$SOURCE"

# Refuse to finish an image in which another user could read the grader, or could not run Python
# with numpy (nngrade would then stop every submission with SandboxUnavailable). The check runs as
# uid 65534 ("nobody"): nngrade creates its sandbox users on first use, and what protects the
# source is its owner and mode, which turn away every uid but root's alike.
cd /
python3 - "$SOURCE" <<'PY'
import os
import sys

source = sys.argv[1]
os.setgroups([])
os.setgid(65534)
os.setuid(65534)
try:
    os.listdir(source)
except PermissionError:
    pass
else:
    sys.exit(f"setup.sh: {source} is readable by other users; the reference solutions would be exposed")
try:
    import numpy  # noqa: F401
except ImportError as exc:
    sys.exit(f"setup.sh: other users cannot import numpy ({exc}); make the Python installation readable")
PY
echo "nngrade: autograder installed in $SOURCE (readable by root only)"
