"""Helpers and bundles shared by the acceptance tests (kpt, kustomize, Helm, Argo CD, files
mode, robustness).

- :func:`doc_commands` reads the shell commands of one section of ``README.md``, so each
  test module can prove that the commands it runs are exactly the documented ones.
- :func:`workspace` copies the parts of the repository a command needs into ``tmp_path``: the
  documented commands run from the repository root, and there they run from that copy.
- :func:`isolated_env` gives every host program its own HOME/XDG/HELM directories and a PATH
  with the console script under test first.
- :func:`site_gateway` and :data:`PLAIN_CATCH_ALL_GATEWAY`: the Gateways most tests feed the
  function (one it rewrites, one it refuses).
- :func:`argocd_generate_env` (with :func:`argocd_parameters_env`): the environment Argo CD's
  repo-server gives a plugin's ``generate`` for an Application, as Argo CD builds it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

DOCS = "README.md"


def doc_section(repo_root: Path, title: str) -> str:
    """The text of the ``## <title>`` (or ``### <title>``) section of README.md.

    The section ends at the next heading of the same or a higher level outside code fences.
    """
    lines = (repo_root / DOCS).read_text(encoding="utf-8").splitlines(keepends=True)
    level: int | None = None
    body: list[str] = []
    in_fence = False
    for line in lines:
        if line.startswith("```"):
            in_fence = not in_fence
        heading = None if in_fence else re.match(r"(#{1,6}) (.*)", line.rstrip("\n"))
        if level is None:
            if heading and len(heading.group(1)) in (2, 3) and heading.group(2) == title:
                level = len(heading.group(1))
            continue
        if heading and len(heading.group(1)) <= level:
            break
        body.append(line)
    assert level is not None, f"{DOCS} has no section '## {title}'"
    return "".join(body)


def doc_blocks(repo_root: Path, title: str, language: str) -> list[str]:
    """Fenced code blocks of one language in a section."""
    section = doc_section(repo_root, title)
    return re.findall(rf"^```{language}\n(.*?)^```", section, re.M | re.S)


def doc_commands(repo_root: Path, title: str) -> list[str]:
    """Every command line of the section's ```sh blocks (comments and blank lines skipped)."""
    commands: list[str] = []
    for block in doc_blocks(repo_root, title, "sh"):
        for line in block.splitlines():
            stripped = line.strip()
            if stripped and not stripped.startswith("#"):
                commands.append(stripped)
    return commands


def workspace(repo_root: Path, tmp_path: Path, *parts: str) -> Path:
    """A copy of the named repository paths under ``tmp_path/repo``; returns that root."""
    root = tmp_path / "repo"
    root.mkdir(parents=True, exist_ok=True)
    for part in parts:
        source = repo_root / part
        target = root / part
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, symlinks=True)
        else:
            shutil.copy2(source, target)
    return root


def isolated_env(tmp_path: Path, function_bin: Path, **extra: str) -> dict[str, str]:
    """Environment with a private HOME and XDG/Helm dirs; the function under test first on PATH."""
    home = tmp_path / "home"
    for sub in ("", ".config", ".cache", ".local/share", "tmp"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    path = [str(function_bin.parent), "/usr/local/bin", "/usr/bin", "/bin"]
    env = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "HELM_CONFIG_HOME": str(home / ".config/helm"),
        "HELM_CACHE_HOME": str(home / ".cache/helm"),
        "HELM_DATA_HOME": str(home / ".local/share/helm"),
        "TMPDIR": str(home / "tmp"),
        "PATH": os.pathsep.join(path),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }
    env.update(extra)
    return env


def run(
    command: str | list[str],
    cwd: Path,
    env: Mapping[str, str],
    stdin: str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run a documented command line with bash (or an argv list), capturing text output."""
    argv = ["bash", "-c", command] if isinstance(command, str) else command
    return subprocess.run(
        argv,
        cwd=cwd,
        env=dict(env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def load_all(text: str) -> list[dict[str, Any]]:
    """The non-empty documents of a YAML stream."""
    return [doc for doc in yaml.safe_load_all(text) if doc]


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` (relative path -> bytes), to prove nothing was touched."""
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def find(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    """The one object of ``kind`` named ``name``."""
    matches = [d for d in docs if d.get("kind") == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]


def servers_on(gateway: dict[str, Any], port: int) -> list[dict[str, Any]]:
    return [s for s in gateway["spec"]["servers"] if s["port"]["number"] == port]


def is_dedicated(gateway: dict[str, Any]) -> bool:
    """Only catch-all httpsRedirect servers: the shape the function adds."""
    servers = gateway["spec"]["servers"]
    return bool(servers) and all(
        s.get("hosts") == ["*"] and s.get("tls") == {"httpsRedirect": True} for s in servers
    )


def redirect_hosts(docs: list[dict[str, Any]]) -> list[str]:
    """Hosts of per-host (non-catch-all) httpsRedirect servers left in the stream."""
    hosts: list[str] = []
    for doc in docs:
        if doc.get("kind") != "Gateway":
            continue
        for server in doc["spec"].get("servers", []):
            if (server.get("tls") or {}).get("httpsRedirect") and server.get("hosts") != ["*"]:
                hosts.extend(server["hosts"])
    return hosts


def site_gateway(name: str) -> str:
    """A site's Gateway ``istio-system/<name>``: a port-80 httpsRedirect server and a 443
    server for ``<name>.example.com`` (what the function rewrites)."""
    return f"""\
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata:
  name: {name}
  namespace: istio-system
spec:
  selector:
    istio: ingressgateway
  servers:
  - port:
      number: 80
      name: http
      protocol: HTTP
    hosts:
    - {name}.example.com
    tls:
      httpsRedirect: true
  - port:
      number: 443
      name: https
      protocol: HTTPS
    hosts:
    - {name}.example.com
    tls:
      mode: SIMPLE
      credentialName: {name}-tls
"""


#: A plain (non-redirect) port-80 server for ``*`` with a default backend bound to it that also
#: names shop.example.com (the host every example redirects): the catch-all redirect would take
#: the backend's hosts over, removing the redirect would expose shop.example.com over plain
#: HTTP, and a redirect route would sort after the backend's own catch-all route -- so the
#: routing simulation refuses the rewrite of its workload in both shapes (MHR008).
PLAIN_CATCH_ALL_GATEWAY = """\
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata:
  name: plain-catch-all
  namespace: istio-system
spec:
  selector:
    istio: ingressgateway
  servers:
  - port:
      number: 80
      name: http
      protocol: HTTP
    hosts:
    - "*"
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: default-backend
  namespace: istio-system
spec:
  hosts:
  - "*"
  - shop.example.com
  gateways:
  - plain-catch-all
  http:
  - route:
    - destination:
        host: default-backend.istio-system.svc.cluster.local
"""


#: Argo CD's control-plane namespace: Applications elsewhere ("apps in any namespace") reach
#: plugins as ``<namespace>_<name>`` (Application.InstanceName).
ARGOCD_NAMESPACE = "argocd"


def argocd_escaped(name: str) -> str:
    """Argo CD's ``escaped()`` for ``PARAM_*`` names: upper-cased, anything outside
    ``[A-Z0-9_]`` made ``_`` (pkg/apis/application/v1alpha1/types.go)."""
    return re.sub(r"[^A-Z0-9_]", "_", name.upper())


def argocd_parameters_env(parameters: list[dict[str, Any]]) -> dict[str, str]:
    """The variables ``ApplicationSourcePluginParameters.Environ()`` gives a plugin for an
    Application's ``spec.source.plugin.parameters``: ``ARGOCD_APP_PARAMETERS`` (the list as
    JSON, each entry's keys sorted as Go marshals a map) and per parameter ``PARAM_<NAME>`` (a
    string), ``PARAM_<NAME>_<i>`` (an array) and ``PARAM_<NAME>_<KEY>`` (a map, keys escaped
    too)."""
    marshalled = []
    env: dict[str, str] = {}
    for param in parameters:
        entry: dict[str, Any] = {"name": param["name"]}
        base = "PARAM_" + argocd_escaped(param["name"])
        if "string" in param:
            entry["string"] = param["string"]
            env[base] = param["string"]
        if "map" in param:
            entry["map"] = dict(param["map"] or {})
            for key, value in entry["map"].items():
                env[f"{base}_{argocd_escaped(key)}"] = value
        if "array" in param:
            entry["array"] = list(param["array"] or [])
            for index, value in enumerate(entry["array"]):
                env[f"{base}_{index}"] = value
        marshalled.append(entry)
    text = json.dumps(marshalled, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # Go's encoding/json escapes these for HTML.
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    env["ARGOCD_APP_PARAMETERS"] = text
    return env


def argocd_generate_env(
    app: dict[str, Any],
    revision: str = "0123456789abcdef0123456789abcdef01234567",
    kube_version: str = "1.32.0",
    api_versions: tuple[str, ...] = ("v1", "networking.istio.io/v1", "networking.istio.io/v1beta1"),
) -> dict[str, str]:
    """What the repo-server adds to the cmp-server's own environment for ``generate`` of an
    Application (reposerver/repository/repository.go: newEnv, getPluginEnvs): the build
    environment, ``KUBE_VERSION``/``KUBE_API_VERSIONS``, the plugin env as ``ARGOCD_ENV_*`` and
    the parameters (:func:`argocd_parameters_env`)."""
    metadata, spec = app["metadata"], app["spec"]
    source = spec["source"]
    name = metadata["name"]
    namespace = metadata.get("namespace", ARGOCD_NAMESPACE)
    plugin = source.get("plugin") or {}
    env = {
        "ARGOCD_APP_NAME": name if namespace == ARGOCD_NAMESPACE else f"{namespace}_{name}",
        "ARGOCD_APP_NAMESPACE": spec["destination"].get("namespace", ""),
        "ARGOCD_APP_PROJECT_NAME": spec.get("project", "default"),
        "ARGOCD_APP_REVISION": revision,
        "ARGOCD_APP_REVISION_SHORT": revision[:7],
        "ARGOCD_APP_REVISION_SHORT_8": revision[:8],
        "ARGOCD_APP_SOURCE_REPO_URL": source["repoURL"],
        "ARGOCD_APP_SOURCE_PATH": source.get("path", ""),
        "ARGOCD_APP_SOURCE_TARGET_REVISION": source.get("targetRevision", ""),
        "KUBE_VERSION": kube_version,
        "KUBE_API_VERSIONS": ",".join(api_versions),
    }
    for entry in plugin.get("env") or []:
        env[f"ARGOCD_ENV_{entry['name']}"] = entry["value"]
    env.update(argocd_parameters_env(plugin.get("parameters") or []))
    return env
