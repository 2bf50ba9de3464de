# cnngrade for graders and Dask workers, on the CPU. Build from the repository root:
#   docker build -t cnngrade .                                   (add --build-arg DATASETS=mnist to bake MNIST in)
# The install steps are grader/platforms/install.sh, the same that CI (.ci/run) and the Gradescope setup.sh run.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    KERAS_HOME=/opt/cnngrade/keras

WORKDIR /src
COPY pyproject.toml README.md ./
COPY grader ./grader
COPY exercises ./exercises
RUN bash grader/platforms/install.sh '/src[cluster]' && rm -rf /var/lib/apt/lists/*

# Datasets fetched now and verified by their hashes, so grading needs no network (none by default: mount one and
# set CNNGRADE_DATA, or build with --build-arg DATASETS=mnist).
ARG DATASETS=""
# hadolint ignore=SC2086
RUN mkdir -p "$KERAS_HOME" && for name in $DATASETS; do \
      python -c 'import sys; from grader.data import resolve_dataset; print(resolve_dataset(sys.argv[1]))' "$name"; \
    done && chmod -R a+rX "$KERAS_HOME"

RUN useradd --create-home --uid 1000 grader
USER 1000
WORKDIR /work
CMD ["cnngrade", "--help"]
