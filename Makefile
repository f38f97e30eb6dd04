PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export ZHAOCUO_DATABASE_URL ?= sqlite:///./var/zhaocuo.db

UV_COMPILE := pip compile pyproject.toml --generate-hashes --universal --python-version 3.11 --quiet

.PHONY: run test test-sqlite test-postgres lint format migrate bench notice-pictures page-pictures clean lock

# The exact versions of requirements-dev.lock (hash-checked), then the package itself.
$(STAMP): pyproject.toml requirements-dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

## lock: pin every dependency of pyproject.toml, with hashes (run after changing dependencies;
## versions already pinned stay unless pyproject.toml excludes them)
lock:
	test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet "uv>=0.5"
	$(BIN)/uv $(UV_COMPILE) -o requirements.lock
	$(BIN)/uv $(UV_COMPILE) --extra dev -o requirements-dev.lock

## run: install, migrate the embedded SQLite database, load the demo directory, serve on :8000
run: $(STAMP)
	$(BIN)/zhaocuo migrate
	$(BIN)/zhaocuo demo
	ZHAOCUO_SCHEDULER=$${ZHAOCUO_SCHEDULER:-embedded} $(BIN)/zhaocuo serve --host 127.0.0.1 --port 8000

## test: the whole suite on SQLite, then on PostgreSQL when ZHAOCUO_TEST_POSTGRES_URL is set
## (`make -k test` runs every part even when one fails, as .ci/run does)
test: lint test-sqlite test-postgres

test-sqlite: $(STAMP)
	env -u ZHAOCUO_TEST_DATABASE_URL $(BIN)/pytest -q

test-postgres: $(STAMP)
	@if [ -n "$$ZHAOCUO_TEST_POSTGRES_URL" ]; then \
		ZHAOCUO_TEST_DATABASE_URL="$$ZHAOCUO_TEST_POSTGRES_URL" $(BIN)/pytest -q; \
	else \
		echo "ZHAOCUO_TEST_POSTGRES_URL is not set: PostgreSQL run skipped"; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrate: $(STAMP)
	$(BIN)/zhaocuo migrate

## bench: every benchmark (several minutes; needs wrk and the local PostgreSQL)
bench: $(STAMP)
	$(BIN)/python bench/workdays.py
	$(BIN)/python bench/submit.py
	$(BIN)/python bench/sweep.py
	$(BIN)/python bench/notice.py

## notice-pictures: the PNGs of the notice in docs/ (needs LibreOffice and poppler-utils)
notice-pictures: $(STAMP)
	$(BIN)/python docs/render_notice_pictures.py

## page-pictures: the citizens' pages as docs/pages-*.png at 375 and 1280 px (needs /usr/bin/chromium)
page-pictures: $(STAMP)
	$(BIN)/python docs/render_page_pictures.py

clean:
	rm -rf $(VENV) var .pytest_cache
