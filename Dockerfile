# One image for both the Rasa server and the action server (docker-compose.yml
# picks the command). It installs exactly the locked set, like `make install`.
FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends make gcc g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml requirements.lock overrides.txt Makefile README.md ./
COPY core core
COPY shopdb shopdb
COPY retrieval retrieval
COPY nlu_models nlu_models
COPY rasa_addons rasa_addons
COPY insights insights
COPY handoff handoff
COPY web web
COPY actions actions
COPY rasa_sdk_plugins rasa_sdk_plugins
COPY assistant assistant
COPY perf perf
COPY cli cli
RUN make install PYTHON=python3
COPY bot bot
ENV PATH="/app/.venv/bin:${PATH}" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1
# Build the catalogue + indexes and train the model at image build time, so a
# container starts answering without work at start-up.
RUN make data && make train
EXPOSE 5005 5055
CMD ["shop", "start", "--host", "0.0.0.0"]
