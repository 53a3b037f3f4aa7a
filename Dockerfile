# syntax=docker/dockerfile:1
# merge-https-redirects as a container: a kpt `image:` function, a kustomize
# `container:` function, and the Argo CD CMP sidecar (integrations/argocd).
#   docker build -t merge-https-redirects:dev .
# Runs as nobody (65534), writes nothing at run time: fine with a read-only
# root file system (kpt and Argo CD run it that way).
#
# Without a container registry and package index (air-gapped builds, this
# project's CI), tools/container_image.py makes a local Debian base image and a
# wheelhouse on the host, then builds this file with
#   --build-arg PYTHON_IMAGE=<local base> --build-arg WHEELS=wheelhouse

ARG PYTHON_IMAGE=python:3.12.8-slim-bookworm
# Where the wheels come from: "index" (built here, dependencies from the package
# index) or "wheelhouse" (build/wheelhouse/ of the build context, made on the host).
ARG WHEELS=index

FROM ${PYTHON_IMAGE} AS wheels-index
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_NO_INPUT=1 \
    PIP_CONSTRAINT=/constraints.txt
COPY container/constraints.txt /constraints.txt
# A C compiler: the wheel then carries the compiled code (setup.py: mypyc's modules and the
# scanner, with the libyaml sources it carries, so the final stage needs no libyaml).
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Only what the package build needs (see .dockerignore).
COPY pyproject.toml setup.py README.md LICENSE ./
COPY fn/ fn/
COPY templates/ templates/
# The wheel of this repository and the wheels of its pinned dependencies.
RUN python3 -m venv /opt/pip \
 && /opt/pip/bin/pip install pip \
 && /opt/pip/bin/pip wheel --wheel-dir /wheels .

FROM ${PYTHON_IMAGE} AS wheels-wheelhouse
COPY build/wheelhouse/ /wheels/

FROM wheels-${WHEELS} AS wheels

FROM ${PYTHON_IMAGE} AS build
COPY --from=wheels /wheels /wheels
# Install that wheel (and only it, with its pinned dependencies, nothing from an
# index) into a virtual environment copied to the final stage.
RUN python3 -m venv /opt/merge-https-redirects \
 && /opt/merge-https-redirects/bin/pip install --no-index --find-links /wheels \
      --disable-pip-version-check --no-cache-dir merge-https-redirects \
 && /opt/merge-https-redirects/bin/pip uninstall --yes --disable-pip-version-check \
      pip setuptools \
 && /opt/merge-https-redirects/bin/merge-https-redirects --version

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="merge-https-redirects" \
      org.opencontainers.image.description="KRM function: one dedicated port-80 redirect Gateway per gateway workload so cert-manager HTTP-01 passes" \
      org.opencontainers.image.version="0.2.0" \
      org.opencontainers.image.source="https://github.com/merge-https-redirects/merge-https-redirects" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /opt/merge-https-redirects /opt/merge-https-redirects
ENV PATH=/opt/merge-https-redirects/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# nobody:nogroup, numeric so that Kubernetes runAsNonRoot can verify it.
USER 65534:65534
WORKDIR /tmp
ENTRYPOINT ["merge-https-redirects"]
