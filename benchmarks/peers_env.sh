#!/usr/bin/env bash
# The environment benchmarks/peers.py runs optillm from: .venv-peers at the repository
# root (gitignored), never a ponder dependency. Run from the repository root:
#
#     bash benchmarks/peers_env.sh
#
# optillm 0.4.0 declares torch, transformers, spaCy, gradio, selenium and more (several
# GB with a CUDA torch), but its proxy with an OpenAI-compatible upstream imports only
# what is listed below (read from optillm/server.py and the approach modules it imports
# at start: flask, the Cerebras and OpenAI clients, networkx for mcts, z3 and sympy for
# z3, aiohttp for rstar, math_verify and PyYAML for cepo). Local inference
# (OPTILLM_API_KEY) and its plugins would need the rest; the benchmark uses neither, and
# plugins that cannot import are logged and skipped by optillm itself.
set -euo pipefail

ENV=${PEERS_ENV:-.venv-peers}
PYTHON=${PYTHON:-python3}

if [ ! -x "$ENV/bin/python" ]; then
  "$PYTHON" -m venv "$ENV"
fi
"$ENV/bin/python" -m pip install --quiet --upgrade pip
"$ENV/bin/python" -m pip install --quiet --no-deps "optillm==0.4.0"
"$ENV/bin/python" -m pip install --quiet \
  flask openai "cerebras_cloud_sdk" networkx numpy "z3-solver<=4.15.4.0" sympy aiohttp \
  math-verify PyYAML requests
"$ENV/bin/python" -c "import optillm, sys; print('optillm', optillm.__version__, 'in', sys.prefix)"
