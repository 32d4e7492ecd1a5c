# `make demo` and `make test` each set the machine up first (scripts/bootstrap.sh is
# idempotent), so a newcomer on a fresh Debian machine needs nothing else.
PY := .venv/bin/python

.PHONY: setup demo test lint bench clean translations

setup:
	bash scripts/bootstrap.sh

demo: setup
	$(PY) -m kiosk demo

test: setup
	bash scripts/run-tests.sh

lint: setup
	.venv/bin/ruff check .

bench: setup
	@for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# Compile every gettext catalog to .mo (a check that any gettext tool takes them; the kiosk
# itself reads the .po files, so a fresh clone needs no compile step). The .mo are ignored by git.
translations: setup
	@for po in config/translations/*/LC_MESSAGES/*.po; do \
	  .venv/bin/pybabel compile --statistics -i $$po -o $${po%.po}.mo || exit 1; done

clean:
	rm -rf .venv tests/artifacts .pytest_cache
