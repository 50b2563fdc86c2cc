# Developer entry points. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
REPO_DIR ?= build/repo
# pytest-xdist workers: most tests wait on servers and sockets, so more workers
# than CPUs pays; each worker starts its own Swift, Keystone and servers.
TEST_WORKERS ?= 4
# loadfile: a module runs on one worker, so its module-scoped servers start once.
XDIST := -n $(TEST_WORKERS) --dist loadfile

.PHONY: run test test-unit test-bookworm test-deploy test-tempest bench setup venv samples repo clean

run: venv            ## glance-registry + glance-api on SQLite and ./var/images
	tools/run-local.sh

test: setup          ## the whole Python suite, against real MariaDB, PostgreSQL, Swift and S3
	$(BIN)/pytest $(XDIST)

test-unit: venv      ## fast tests only: no databases or object stores
	$(BIN)/pytest $(XDIST) tests/unit

BOOKWORM_TESTS ?= tests/unit tests/functional tests/integration
test-bookworm: setup .venv-bookworm/.installed  ## the suite on Debian bookworm's library versions
	.venv-bookworm/bin/pytest $(XDIST) $(BOOKWORM_TESTS)

.venv-bookworm/.installed: setup.py requirements-bookworm.txt
	$(PYTHON) -m venv .venv-bookworm
	.venv-bookworm/bin/pip install -q --upgrade pip
	.venv-bookworm/bin/pip install -q -r requirements-bookworm.txt
	.venv-bookworm/bin/pip install -q --no-deps -e .
	touch $@

test-deploy:         ## the .deb in a booted container, the Ansible roles under Molecule, the Keystone registration
	tests/deploy/test_deb_install.sh
	tests/deploy/run-molecule.sh
	tests/deploy/test_keystone_register.sh

test-tempest: venv   ## OpenStack Tempest's image tests against this checkout in keystone mode
	tests/tempest/run.sh

bench: venv          ## the figures quoted in the issues' closing notes
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

setup: venv          ## system packages and services the suite talks to (needs root)
	tools/setup-test-deps.sh

venv: $(VENV)/.installed

$(VENV)/.installed: setup.py requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-test.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

repo:                ## the .debs as a signed apt repository in $(REPO_DIR) (README "apt repository")
	tools/make-repo.sh $(REPO_DIR)

samples:             ## regenerate etc/*.conf from the option table
	for p in glance-api glance-registry glance-scrubber; do \
	  PYTHONPATH=app $(PYTHON) -m glance.config --sample $$p > etc/$$p.conf; done

clean:
	rm -rf $(VENV) .venv-bookworm var build *.egg-info app/*.egg-info
