# The two commands of the README, and their helpers. Run as root.
#   make lab    set everything up, create the lab containers, run the lab playbooks
#   make test   set everything up, run the whole test suite
#   make lab-down   remove the lab
PY := .venv/bin/python
export CONTAINERS_CONF := $(CURDIR)/tools/containers.conf

.PHONY: lab test lab-down lab-status setup image lint

setup:
	python3 tools/bootstrap.py

image:
	python3 tools/image.py

lab: setup
	$(PY) tools/lab.py up

lab-status:
	$(PY) tools/lab.py status

lab-down:
	python3 tools/lab.py down

# Two test streams (pytest-xdist); tests that share a server stay in one stream
# (tests/conftest.py). TEST_WORKERS=0 runs everything in one process.
TEST_WORKERS ?= 2

test: setup
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder $(PYTEST_ARGS)

lint: setup
	$(PY) -m pytest tests/quality $(PYTEST_ARGS)
