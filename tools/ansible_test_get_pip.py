"""Stand-in for ansible-test's pip bootstrap script (get-pip-<version>.py).

ansible-test downloads that script from a host this lab cannot reach, and says it
may be saved by hand to ~/.ansible/test/cache/get_pip_<version>.py instead.
tests/quality/test_sanity.py saves this file there, with HOST_PYTHON set to the
project venv's interpreter. It does what get-pip does: installs the requested pip
into the empty venv ansible-test made, using the project venv's pip
(`pip --python TARGET install ...`), which reaches PyPI as configured on this host.
"""
import subprocess
import sys

HOST_PYTHON = "@HOST_PYTHON@"
ARGS = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(subprocess.call([HOST_PYTHON, "-m", "pip", "--python", sys.executable, "install",
                          *ARGS]))
