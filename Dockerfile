# syntax=docker/dockerfile:1
# merge-https-redirects as a container: a kpt `image:` function, a kustomize
# `container:` function, and the Argo CD CMP sidecar (integrations/argocd).
#   docker build -t merge-https-redirects:dev .
# Runs as nobody (65534), writes nothing at run time: fine with a read-only
# root file system (kpt and Argo CD run it that way).

ARG PYTHON_IMAGE=python:3.12.8-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_NO_INPUT=1
# Pinned build and run-time dependencies; PIP_CONSTRAINT also applies inside
# pip's isolated build environment, so setuptools is pinned there too.
RUN printf '%s\n' \
      'pip==24.3.1' \
      'setuptools==75.6.0' \
      'wheel==0.45.1' \
      'PyYAML==6.0.2' \
      'Jinja2==3.1.6' \
      'MarkupSafe==3.0.2' \
      > /constraints.txt
ENV PIP_CONSTRAINT=/constraints.txt
WORKDIR /src
# Only what the package build needs (see .dockerignore).
COPY pyproject.toml README.md ./
COPY fn/ fn/
COPY templates/ templates/
# Build the wheel from this repository, then install it (and only it, with
# its pinned dependencies) into a virtual environment copied to the final stage.
RUN python -m venv /opt/merge-https-redirects \
 && /opt/merge-https-redirects/bin/pip install pip \
 && /opt/merge-https-redirects/bin/pip wheel --no-deps --wheel-dir /wheels . \
 && /opt/merge-https-redirects/bin/pip install /wheels/merge_https_redirects-*.whl \
 && /opt/merge-https-redirects/bin/pip uninstall --yes pip \
 && /opt/merge-https-redirects/bin/merge-https-redirects --version

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="merge-https-redirects" \
      org.opencontainers.image.description="KRM function: one dedicated port-80 redirect Gateway per selector so cert-manager HTTP-01 passes" \
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
