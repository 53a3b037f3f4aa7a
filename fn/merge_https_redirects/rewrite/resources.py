"""The bundle as the rewrite sees it: resources (read lazily, validated), what the YAML layer
must build of each kind (:func:`wanted`, :data:`retain`), and the :class:`Outcome` of a run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from merge_https_redirects.config import Config
from merge_https_redirects.model.istio import (
    is_istio,
)
from merge_https_redirects.model.workloads import (
    NO_PORT_TRANSLATION,
    Workload,
    could_be_gateway,
    gateway_labels,
    gateway_selectors,
    translates_ports,
)
from merge_https_redirects.model.workloads import collect as collect_workloads
from merge_https_redirects.results import FileRef, ResourceRef, Result

TYPE_CHECKING = False  # what follows is for annotations only, never needed at run time


if TYPE_CHECKING:
    from typing import Any


Path = tuple[str | int, ...]


Selector = tuple[tuple[str, str], ...] | None


GatewayKey = tuple[str, str]  # (namespace, name)


PATH_ANNOTATIONS = ("internal.config.kubernetes.io/path", "config.kubernetes.io/path")


INDEX_ANNOTATIONS = ("internal.config.kubernetes.io/index", "config.kubernetes.io/index")


LOCAL_CONFIG = "config.kubernetes.io/local-config"


SEQINDENT = "internal.config.kubernetes.io/seqindent"


class UnreadableResource(Exception):
    """The resource's text could not be read as a value (message names line and problem)."""


class Resource(NamedTuple):
    """One input resource. ``load`` re-reads its full value from the input text; it is set for
    the kinds the function reads (see :func:`wanted`) and not kept, so large bundles stay small
    in memory."""

    position: int
    api_version: str
    kind: str
    name: str
    namespace: str
    annotations: dict[str, str]
    load: Callable[[], Any] | None = None
    file: FileRef | None = None

    def read(self) -> tuple[dict[str, Any] | None, str | None]:
        """(value, None), or (None, why it cannot be read); (None, None) for opaque kinds."""
        if self.load is None:
            return None, None
        # A loader that keeps its answer (the scan's) is asked and checked once per run.
        known: tuple[dict[str, Any] | None, str | None] | None = getattr(
            self.load, "checked", None)
        if known is None:
            known = self._read()
            if hasattr(self.load, "checked"):
                self.load.checked = known
        return known

    def _read(self) -> tuple[dict[str, Any] | None, str | None]:
        assert self.load is not None
        try:
            value = self.load()
        except UnreadableResource as exc:
            return None, str(exc)
        if not isinstance(value, dict):
            return None, "not a mapping"
        for key in ("apiVersion", "kind"):
            if not isinstance(value.get(key), str):
                return None, f"{key} must be a string, got {_type_name(value.get(key))}"
        meta = value.get("metadata")
        if not isinstance(meta, dict):
            return None, f"metadata must be a map, got {_type_name(meta)}"
        name, namespace = meta.get("name"), meta.get("namespace")
        if not isinstance(name, str) or not name:
            return None, f"metadata.name must be a non-empty string, got {_type_name(name)}"
        if namespace is not None and not isinstance(namespace, str):
            return None, f"metadata.namespace must be a string, got {_type_name(namespace)}"
        return value, None

    @property
    def value(self) -> dict[str, Any] | None:
        return self.read()[0]

    @property
    def ref(self) -> ResourceRef:
        return ResourceRef(self.api_version, self.kind, self.name, self.namespace)

    @property
    def local_config(self) -> bool:
        value = self.annotations.get(LOCAL_CONFIG)
        return value is not None and value.lower() == "true"

    @property
    def path(self) -> str | None:
        for key in PATH_ANNOTATIONS:
            if key in self.annotations:
                return self.annotations[key]
        return None


def _type_name(value: object) -> str:
    names = {dict: "a map", list: "a list", str: "a string", bool: "a boolean", int: "a number",
             float: "a number"}
    if value is None:
        return "nothing"
    return names.get(type(value), type(value).__name__)


class Change(NamedTuple):
    delete: bool = False
    remove: tuple[Path, ...] = ()


class Outcome:
    """What a run decided: changes per resource position, new resources, results, and every
    dedicated Gateway after the run (added and reused, for the chart generator)."""

    __slots__ = ("added", "changes", "dedicated", "results", "unplaceable")

    def __init__(self, *, changes: dict[int, Change] | None = None,
                 added: list[dict[str, Any]] | None = None,
                 results: list[Result] | None = None,
                 dedicated: list[dict[str, Any]] | None = None) -> None:
        self.changes: dict[int, Change] = {} if changes is None else changes
        self.added: list[dict[str, Any]] = [] if added is None else added
        self.results: list[Result] = [] if results is None else results
        self.dedicated: list[dict[str, Any]] = [] if dedicated is None else dedicated
        #: workloads no dedicated Gateway could reach alone (index -> why): refused
        self.unplaceable: dict[int, str] = {}

    def __repr__(self) -> str:
        return (f"Outcome(changes={self.changes!r}, added={self.added!r}, "
                f"results={self.results!r}, dedicated={self.dedicated!r})")


def _checker_annotation(key: Any) -> bool:
    """Annotations the rewrite or the HTTP-01 checker reads (cert-manager's, Istio's, the
    Ingress class); the rest (kpt bookkeeping, last-applied-configuration...) stays text."""
    return isinstance(key, str) and (
        "cert-manager.io" in key or "istio.io" in key or key in _CLASS_ANNOTATIONS)


#: The Ingress class of an Ingress, and the default-class mark of an IngressClass.
_CLASS_ANNOTATIONS = frozenset({"kubernetes.io/ingress.class",
                                "ingressclass.kubernetes.io/is-default-class"})


def _is_inject_template(key: Any) -> bool:
    return bool(key == "inject.istio.io/templates")


_METADATA = {"name": True, "namespace": True, "labels": True, "creationTimestamp": True,
             "annotations": _checker_annotation}


#: Istio, cert-manager and Ingress objects: everything but unrelated annotations and status.
_READ_OBJECT = {"apiVersion": True, "kind": True, "metadata": _METADATA, "spec": True}


_CONTAINERS = {"name": True, "image": True, "ports": True}


_POD_TEMPLATE = {
    "metadata": {"labels": True, "annotations": _is_inject_template},
    "spec": {"containers": _CONTAINERS},
}


#: Deployments, Pods, Services: only what tells a gateway workload, its labels and the port
#: translation of its Services.
_READ_WORKLOAD = {
    "apiVersion": True,
    "kind": True,
    "metadata": {"name": True, "namespace": True, "labels": True,
                 "annotations": _is_inject_template},
    "spec": {"selector": True, "template": _POD_TEMPLATE, "containers": _CONTAINERS,
             "ports": True},
}


def _is_translation_opt_out(key: Any) -> bool:
    return bool(key == NO_PORT_TRANSLATION)


#: Services: what ``resolvePorts`` reads (a bundle's thousands of application Services
#: translating a port are kept, so only that).
_READ_SERVICE = {
    "apiVersion": True,
    "kind": True,
    "metadata": {"name": True, "namespace": True, "labels": _is_translation_opt_out},
    "spec": {"selector": True, "ports": {"name": True, "port": True, "targetPort": True}},
}


_WORKLOAD_KINDS = {("apps", "Deployment"), ("apps", "DaemonSet"), ("apps", "StatefulSet"),
                   ("", "Pod"), ("", "Service")}


_WORKLOAD_KIND_NAMES = frozenset(kind for _, kind in _WORKLOAD_KINDS)


def wanted(api_version: str, kind: str) -> dict[str, Any] | bool:
    """What the function reads of a kind (``False``: nothing, the item stays opaque text)."""
    key = (api_version, kind)
    found = _WANTED.get(key)
    if found is None:
        found = _wanted(api_version, kind)
        if len(_WANTED) < 4096:  # a bundle holds few (apiVersion, kind) pairs: asked per item
            _WANTED[key] = found
    return found


_WANTED: dict[tuple[str, str], dict[str, Any] | bool] = {}


def _wanted(api_version: str, kind: str) -> dict[str, Any] | bool:
    if is_istio(api_version, kind):
        return _READ_OBJECT
    group = api_version.partition("/")[0] if "/" in api_version else ""
    if group in ("cert-manager.io", "certmanager.k8s.io") and kind in (
        "Certificate", "Issuer", "ClusterIssuer"
    ):
        return _READ_OBJECT
    if group == "networking.k8s.io" or (group == "extensions" and kind == "Ingress"):
        return _READ_OBJECT
    if (group, kind) == ("", "Service"):
        return _READ_SERVICE
    if (group, kind) in _WORKLOAD_KINDS:
        return _READ_WORKLOAD
    if group == "install.istio.io" and kind == "IstioOperator":
        return _READ_OBJECT
    if group in _GATEWAY_API_GROUPS and kind in _GATEWAY_API_KINDS:
        return _READ_OBJECT  # the HTTP-01 check of gatewayHTTPRoute solvers
    if (group, kind) == ("", "Namespace"):
        return _READ_NAMESPACE  # allowedRoutes / allowedListeners namespace selectors
    return False


_GATEWAY_API_GROUPS = frozenset({"gateway.networking.k8s.io", "gateway.networking.x-k8s.io"})
_GATEWAY_API_KINDS = frozenset({"Gateway", "GatewayClass", "HTTPRoute", "ListenerSet",
                                "XListenerSet"})
_READ_NAMESPACE = {"apiVersion": True, "kind": True,
                   "metadata": {"name": True, "labels": True}}


class _GatewayWorkloadsOnly:
    """Which values :func:`wanted` asked for are worth keeping (``yamlio.Retain``): of
    workloads, only the Istio gateways' (the checker reads their pod labels; a bundle's
    application Deployments would only take memory and time) and the Services that translate
    a port (any of them may select the gateway pods)."""

    __slots__ = ()

    #: the kinds it may refuse (the others are always kept)
    kinds = _WORKLOAD_KIND_NAMES

    def __call__(self, kind: str, value: Any) -> bool:
        if kind in _WORKLOAD_KIND_NAMES:
            return isinstance(value, dict) and (
                gateway_labels(value) is not None
                or (kind == "Service" and translates_ports(value)))
        return True

    def possible(self, kind: str, text: str) -> bool:
        return kind not in _WORKLOAD_KIND_NAMES or could_be_gateway(kind, text)


retain = _GatewayWorkloadsOnly()


def values_of(resources: Sequence[Resource]) -> list[dict[str, Any]]:
    """The values of the resources the function reads (local config excluded): those the
    scan built, shared by every step of a run."""
    return [v for v in (r.value for r in resources if r.load is not None and not r.local_config)
            if v is not None]


def workloads_of(resources: Sequence[Resource], config: Config,
                 values: Sequence[dict[str, Any]] | None = None) -> tuple[Workload, ...]:
    """The gateway workloads of the bundle (:func:`merge_https_redirects.workloads.collect`);
    ``values``: :func:`values_of` ``resources``, when the caller has them."""
    if values is None:
        values = values_of(resources)
    return collect_workloads(values, configured=config.gateway_labels,
                             selectors=gateway_selectors(values),
                             ingress_selector=config.ingress_selector)


#: The hosts' bookkeeping annotations: what they begin with.
_BOOKKEEPING = ("config.kubernetes.io/", "internal.config.kubernetes.io/", "config.k8s.io/",
                "kustomize.config.k8s.io/")


def without_bookkeeping(gateway: dict[str, Any]) -> dict[str, Any]:
    """The object without the hosts' bookkeeping annotations (for the chart generator, and
    to tell identical copies of one resource)."""
    out = dict(gateway)
    meta = out.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("annotations"), dict):
        return out  # nothing to strip (a malformed metadata stays as it is)
    meta = dict(meta)
    annotations = {k: v for k, v in meta["annotations"].items()
                   if not (isinstance(k, str) and k.startswith(_BOOKKEEPING))}
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    out["metadata"] = meta
    return out
