# Two commands do all set-up: `make run` and `make test`. Both install what is missing first.
VENV := .venv
BIN := $(VENV)/bin
DEMO_PROMPT := upbeat pop song, 120 bpm, G major, 30 seconds
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run song test setup lint format bench

run: setup
	@$(BIN)/overture serve --host $(HOST) --port $(PORT) --workers 1 --demo

song: setup
	@$(BIN)/overture generate "$(DEMO_PROMPT)" --out out/demo --seed 1 --force
	@echo "Demo song: $(CURDIR)/out/demo/song.flac (stems, MIDI, MusicXML and song.json beside it)"

test: setup lint
	$(BIN)/pytest -q

setup:
	@bash scripts/setup.sh

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

format: setup
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: setup
	$(BIN)/python bench/generate.py
