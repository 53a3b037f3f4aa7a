"""Generate realistic kpt bundles of Istio/cert-manager apps for the benchmark and property tests.

Each app is five resources, written by hand as YAML text (not through a YAML library) so the
bundle carries what real packages carry: comments (head and trailing), single- and double-quoted
strings, a flow sequence and mapping, and literal block scalars:

- a ``Deployment`` (containers, env, resources, probes),
- a ``Service``,
- an Istio ``Gateway`` (``networking.istio.io/v1beta1``, ``selector: {istio: ingressgateway}``)
  with a port-80 HTTP server (``tls.httpsRedirect: true``) and a port-443 HTTPS server,
- a ``VirtualService`` bound to that Gateway,
- a cert-manager ``Certificate`` (``cert-manager.io/v1``) for the host, issued by a ClusterIssuer.

Plus one ``ClusterIssuer`` with an http01 solver of ingress class ``istio``.

:func:`make_resource_list` returns the ResourceList exactly as ``kpt fn render`` (kpt
1.0.0-beta) feeds it to a function for the package that :func:`make_package` writes: the
``Kptfile`` comes first, then every resource in file-path order, each re-indented in compact style
under ``items:`` and carrying the annotations kpt adds (``config.kubernetes.io/index``/``path``,
``internal.config.kubernetes.io/index``/``package-path``/``path``/``seqindent``/``id`` ...).

Run as a script to write a ResourceList or a package::

    python bench/generate.py 10000 > /tmp/rl.yaml
    python bench/generate.py 10000 --package /tmp/pkg
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

ITEMS_PER_APP = 5
SeqIndent = Literal["compact", "wide", "mixed"]
SEQINDENTS: tuple[str, ...] = ("compact", "wide", "mixed")
DEFAULT_PACKAGE_PATH = "/tmp/bench-pkg"
DEFAULT_EXEC = "merge-https-redirects"
ISSUER = "letsencrypt-prod"
ISSUER_FILE = "cluster-issuer.yaml"
KPTFILE = "Kptfile"


@dataclass
class Resource:
    """One resource as text pieces, so it can be written to a file or as a ResourceList item.

    ``metadata`` holds the lines under ``metadata:`` except ``annotations``; ``annotations`` the
    lines under ``annotations:``; ``body`` the top-level lines after ``metadata`` (``spec: ...``).
    All lines are in compact sequence style, relative to the resource's own indentation.
    """

    api_version: str
    kind: str
    metadata: list[str]
    annotations: list[str] = field(default_factory=list)
    body: list[str] = field(default_factory=list)
    head_comment: list[str] = field(default_factory=list)

    def lines(self, extra_annotations: list[str] | None = None) -> list[str]:
        out = [*self.head_comment, f"apiVersion: {self.api_version}", f"kind: {self.kind}"]
        out.append("metadata:")
        out.extend("  " + line for line in self.metadata)
        annotations = self.annotations + (extra_annotations or [])
        if annotations:
            out.append("  annotations:")
            out.extend("    " + line for line in annotations)
        out.extend(self.body)
        return out


def item_count(n_items: int) -> int:
    """How many items :func:`make_resource_list` emits for ``n_items`` (Kptfile and ClusterIssuer
    included)."""
    return app_count(n_items) * ITEMS_PER_APP + 2


def app_count(n_items: int) -> int:
    """Apps in a bundle of ``n_items`` items: five items per app, at least one app."""
    return max(1, n_items // ITEMS_PER_APP)


def app_name(index: int) -> str:
    """Zero-padded so that file-path order (the order kpt reads files in) is app order."""
    return f"app{index:05d}"


def to_wide(lines: list[str]) -> list[str]:
    """Re-indent compact block sequences (``- `` at the parent key's column) as wide ones.

    Works on the generator's own text: every block sequence is a mapping value and no block
    scalar line starts with ``- ``.
    """
    out: list[str] = []
    stack: list[tuple[int, int]] = []  # (column of the "- " items in the input, total shift)
    for line in lines:
        stripped = line.lstrip(" ")
        if not stripped:
            out.append(line)
            continue
        column = len(line) - len(stripped)
        is_item = stripped.startswith("- ") or stripped == "-"
        while stack and (column < stack[-1][0] or (column == stack[-1][0] and not is_item)):
            stack.pop()
        shift = stack[-1][1] if stack else 0
        if is_item and (not stack or stack[-1][0] != column):
            shift += 2
            stack.append((column, shift))
        out.append(" " * (column + shift) + stripped)
    return out


def _quote(rng: random.Random, value: str) -> str:
    return rng.choice((value, f'"{value}"', f"'{value}'"))


def app_resources(index: int, rng: random.Random) -> list[Resource]:
    """The five resources of app ``index``: Deployment, Service, Gateway, VirtualService,
    Certificate, in the order they appear in the app's file."""
    name = app_name(index)
    team = f"team-{rng.randrange(24):02d}"
    host = f"{name}.example.com"
    version = f"1.{rng.randrange(20)}.{rng.randrange(10)}"
    log_level = rng.choice(("info", "debug", "warn"))
    gateway = f"{name}-gateway"
    secret = f"{name}-tls"
    labels = [f"app: {name}", f'app.kubernetes.io/part-of: "{team}"']

    env = [
        "- name: LOG_LEVEL",
        f'  value: "{log_level}"',
        "- name: POD_NAME",
        "  valueFrom:",
        "    fieldRef:",
        "      fieldPath: metadata.name",
    ]
    for extra in range(rng.randrange(3)):
        env += [f"- name: FEATURE_{extra}", f"  value: '{rng.choice(('true', 'false'))}'"]
    deployment = Resource(
        "apps/v1",
        "Deployment",
        head_comment=[f"# {name}: web frontend of {team}, served at https://{host}"],
        metadata=[f"name: {name}", f"namespace: {team}", "labels:", *("  " + x for x in labels)],
        annotations=[
            f"example.com/owner: '{team}@example.com'",
            "example.com/runbook: |",
            f"  Page {team} on 5xx > 1%.",
            "  Roll back with: kubectl rollout undo",
        ],
        body=[
            "spec:",
            f"  replicas: {rng.choice((1, 2, 3))}",
            "  selector:",
            "    matchLabels:",
            f"      app: {name}",
            "  template:",
            "    metadata:",
            "      labels:",
            f"        app: {name}",
            "    spec:",
            "      containers:",
            "      - name: web",
            f'        image: "registry.example.com/{team}/{name}:{version}"',
            f'        args: ["--port=8080", "--log-level={log_level}"]',
            "        ports:",
            "        - name: http",
            "          containerPort: 8080 # matches the Service targetPort",
            "        env:",
            *("        " + x for x in env),
            "        resources:",
            "          requests: {cpu: 100m, memory: 128Mi}",
            "          limits:",
            "            memory: 256Mi",
            "        readinessProbe:",
            "          httpGet:",
            "            path: /healthz",
            "            port: http",
            "          periodSeconds: 10",
        ],
    )
    service = Resource(
        "v1",
        "Service",
        metadata=[f"name: {name}", f"namespace: {team}", "labels:", *("  " + x for x in labels)],
        body=[
            "spec:",
            "  selector:",
            f"    app: {name}",
            "  ports:",
            "  - name: http",
            "    port: 80",
            "    targetPort: http",
        ],
    )
    quoted_host = _quote(rng, host)
    http_server = [
        "- port:",
        "    number: 80",
        "    name: http",
        "    protocol: HTTP",
        "  hosts:",
        f"  - {quoted_host}",
        "  tls:",
        "    httpsRedirect: true # redirect plain HTTP to HTTPS",
    ]
    https_server = [
        "- port:",
        "    number: 443",
        "    name: https",
        "    protocol: HTTPS",
        "  hosts:",
        f"  - {quoted_host}",
        "  tls:",
        "    mode: SIMPLE",
        f"    credentialName: {secret}",
    ]
    # Most charts list port 80 first; some list the HTTPS server first.
    servers = http_server + https_server if rng.random() < 0.8 else https_server + http_server
    gateway_res = Resource(
        "networking.istio.io/v1beta1",
        "Gateway",
        head_comment=["# Public entry point; TLS terminates at the ingress gateway."],
        metadata=[f"name: {gateway}", f"namespace: {team}"],
        body=[
            "spec:",
            "  selector:",
            "    istio: ingressgateway",
            "  servers:",
            *("  " + x for x in servers),
        ],
    )
    virtual_service = Resource(
        "networking.istio.io/v1beta1",
        "VirtualService",
        metadata=[f"name: {name}", f"namespace: {team}"],
        body=[
            "spec:",
            "  hosts:",
            f"  - {host}",
            "  gateways:",
            f"  - {gateway}",
            "  http:",
            "  - route:",
            "    - destination:",
            f"        host: {name}.{team}.svc.cluster.local",
            "        port:",
            "          number: 80",
        ],
    )
    certificate = Resource(
        "cert-manager.io/v1",
        "Certificate",
        metadata=[f"name: {name}", "namespace: istio-system"],
        body=[
            "spec:",
            f"  secretName: {secret} # read by the Gateway's credentialName",
            "  dnsNames:",
            f"  - {quoted_host}",
            "  issuerRef:",
            f"    name: {ISSUER}",
            "    kind: ClusterIssuer",
            "    group: cert-manager.io",
        ],
    )
    return [deployment, service, gateway_res, virtual_service, certificate]


def cluster_issuer() -> Resource:
    return Resource(
        "cert-manager.io/v1",
        "ClusterIssuer",
        head_comment=["# ACME issuer; HTTP-01 challenges are answered through Istio."],
        metadata=[f"name: {ISSUER}"],
        body=[
            "spec:",
            "  acme:",
            "    server: https://acme-v02.api.letsencrypt.org/directory",
            "    email: 'platform@example.com'",
            "    privateKeySecretRef:",
            f"      name: {ISSUER}-account",
            "    solvers:",
            "    - http01:",
            "        ingress:",
            "          class: istio",
        ],
    )


def kptfile(name: str, exec_cmd: str | None) -> Resource:
    body = []
    if exec_cmd:
        body = ["pipeline:", "  mutators:", f"  - exec: {exec_cmd}"]
    return Resource("kpt.dev/v1", "Kptfile", metadata=[f"name: {name}"], body=body)


def _files(
    n_items: int, seed: int, seqindent: SeqIndent
) -> Iterator[tuple[str, str, list[Resource]]]:
    """(path, seqindent, resources) for each resource file of the package, in kpt's read order
    (lexical path order: ``apps/...`` before ``cluster-issuer.yaml``)."""
    if seqindent not in SEQINDENTS:
        raise ValueError(f"seqindent must be one of {SEQINDENTS}, not {seqindent!r}")
    rng = random.Random(seed)
    for index in range(app_count(n_items)):
        style = seqindent if seqindent != "mixed" else rng.choice(("compact", "wide"))
        yield f"apps/{app_name(index)}.yaml", style, app_resources(index, rng)
    yield ISSUER_FILE, "compact", [cluster_issuer()]


def make_resource_list(
    n_items: int,
    *,
    seed: int = 0,
    seqindent: SeqIndent = "compact",
    package_path: str = DEFAULT_PACKAGE_PATH,
    exec_cmd: str | None = DEFAULT_EXEC,
) -> str:
    """The ResourceList ``kpt fn render`` sends for ``make_package(package_path, n_items, ...)``.

    ``n_items // 5`` apps of five items (at least one), then one ClusterIssuer, preceded by the
    package's Kptfile: :func:`item_count` items in all. ``seqindent`` is the style of the package
    files ("mixed": chosen per file); kpt re-indents every item compactly and records the file's
    style in ``internal.config.kubernetes.io/seqindent``.
    """
    out = ["apiVersion: config.kubernetes.io/v1", "kind: ResourceList", "items:"]
    ident = 0

    def add(resource: Resource, path: str, index: int, style: str) -> None:
        nonlocal ident
        ident += 1
        annotations = [
            f"config.kubernetes.io/index: '{index}'",
            f"config.kubernetes.io/path: '{path}'",
            f"internal.config.kubernetes.io/index: '{index}'",
            f"internal.config.kubernetes.io/package-path: '{package_path}'",
            f"internal.config.kubernetes.io/path: '{path}'",
            f"internal.config.kubernetes.io/seqindent: '{style}'",
            f"internal.config.kubernetes.io/annotations-migration-resource-id: '{ident - 1}'",
            f"internal.config.kubernetes.io/id: '{ident}'",
            f"config.k8s.io/id: '{ident}'",
        ]
        lines = resource.lines(annotations)
        out.append("- " + lines[0])
        out.extend("  " + line for line in lines[1:])

    add(kptfile(Path(package_path).name, exec_cmd), KPTFILE, 0, "compact")
    for path, style, resources in _files(n_items, seed, seqindent):
        for index, resource in enumerate(resources):
            add(resource, path, index, style)
    return "\n".join(out) + "\n"


def make_package(
    directory: str | Path,
    n_items: int,
    *,
    seed: int = 0,
    seqindent: SeqIndent = "compact",
    exec_cmd: str | None = DEFAULT_EXEC,
) -> Path:
    """Write a kpt package: a Kptfile (with a one-step ``exec`` mutator pipeline when
    ``exec_cmd`` is given), ``apps/appNNNNN.yaml`` with each app's five resources, and
    ``cluster-issuer.yaml``. Returns the package directory."""
    root = Path(directory)
    (root / "apps").mkdir(parents=True, exist_ok=True)
    write_kptfile(root, exec_cmd)
    for path, style, resources in _files(n_items, seed, seqindent):
        docs = []
        for resource in resources:
            lines = resource.lines()
            docs.append("\n".join(to_wide(lines) if style == "wide" else lines) + "\n")
        (root / path).write_text("---\n".join(docs))
    return root


def write_kptfile(directory: str | Path, exec_cmd: str | None) -> None:
    root = Path(directory)
    (root / KPTFILE).write_text("\n".join(kptfile(root.name, exec_cmd).lines()) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n_items", type=int, help="app items (5 per app)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seqindent", choices=SEQINDENTS, default="compact")
    parser.add_argument("--package", metavar="DIR", help="write a kpt package instead")
    parser.add_argument("--exec", dest="exec_cmd", default=DEFAULT_EXEC, help="Kptfile exec")
    args = parser.parse_args(argv)
    if args.package:
        make_package(args.package, args.n_items, seed=args.seed, seqindent=args.seqindent,
                     exec_cmd=args.exec_cmd)
    else:
        sys.stdout.write(make_resource_list(args.n_items, seed=args.seed,
                                            seqindent=args.seqindent, exec_cmd=args.exec_cmd))
    return 0


if __name__ == "__main__":
    sys.exit(main())
