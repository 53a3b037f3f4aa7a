"""Istio gateway workloads: the pod label sets istiod merges Gateways for.

istiod does not merge Gateways by ``spec.selector``: every Gateway whose selector is a subset of a
gateway pod's labels (or that has none) applies to that pod, whatever the keys
(``pilot/pkg/model/push_context.go`` ``mergeGateways``), and the written server ports are
translated to the targetPorts of the Services selecting the pod (``pilot/pkg/model/gateway.go``
``resolvePorts``). So the rewrite, the merge proof and the HTTP-01 checker all reason per
:class:`Workload`, found here, in this order:

1. ``gatewayLabels`` of the functionConfig (one or more label sets);
2. the bundle's gateway Deployments, DaemonSets, StatefulSets and Pods (the ``gateway``
   injection template, or Istio's ``proxyv2`` image), with the ports of the Services of their
   namespace that select them;
3. an ``IstioOperator``'s ``components.ingressGateways`` (their ``label``, and the operator's
   default Service ports 80 -> 8080, 443 -> 8443 unless ``k8s.service.ports`` says otherwise);
4. otherwise *assumed* workloads, the worst case a cluster can have: any selectors that do not
   contradict each other (the Gateways', the gateway Services', the mesh's ingress selector)
   may sit on one pod, so every union of compatible selectors is a possible pod; and where a
   Gateway has no selector, so is a pod that no selector names (labelled ``{}`` here).

A Gateway that applies to none of the workloads 1.-3. name is left as it is (nothing proves a
change of it).

The scan keeps the values of gateway workloads only (a bundle's thousands of application
Deployments and Services are never built): :func:`could_be_gateway` and :func:`gateway_labels`
are that test.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from merge_https_redirects.model.values import (
    as_dict,
    as_int,
    as_list,
    as_str,
    as_str_map,
    is_mapping,
)

TYPE_CHECKING = False  # what follows is for annotations only, never needed at run time
if TYPE_CHECKING:
    from typing import Any, Literal

    Source = Literal["pods", "service"]

Labels = tuple[tuple[str, str], ...]

#: Controllers whose pod template tells the gateway's pod labels.
CONTROLLER_KINDS = ("Deployment", "DaemonSet", "StatefulSet")
#: Every kind :func:`gateway_labels` may answer for.
WORKLOAD_KINDS = (*CONTROLLER_KINDS, "Pod", "Service")
#: A Service label that opts out of ``resolvePorts``'s translation.
NO_PORT_TRANSLATION = "experimental.istio.io/disable-gateway-port-translation"
#: The Service ports the Istio operator gives an ingress gateway unless told otherwise.
OPERATOR_PORTS = ((80, 8080), (443, 8443))
OPERATOR_DEFAULT_GATEWAY = "istio-ingressgateway"
OPERATOR_DEFAULT_LABELS = (("app", "istio-ingressgateway"), ("istio", "ingressgateway"))
#: More possible pods than this from assumed selectors: keep the single selectors and one
#: widest union per selector (the worst cases) instead of every union.
MAX_ASSUMED = 64


class Workload(NamedTuple):
    """One gateway workload: a name for results, its pod labels, and the Service port ->
    targetPort translation of the Services selecting it."""

    name: str
    labels: Labels
    assumed: bool = False
    ports: tuple[tuple[int, int], ...] = ()
    #: the pods' namespace where the input tells it ("" unknown): what ``exportTo`` is
    #: checked against
    namespace: str = ""

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)

    @property
    def port_map(self) -> dict[int, int]:
        return dict(self.ports)

    def resolve(self, port: int) -> int:
        """The listener port a server written on ``port`` lands on (``resolvePorts``)."""
        for written, target in self.ports:
            if written == port:
                return target
        return port

    def selected_by(self, selector: Mapping[str, str] | Labels | None) -> bool:
        """Whether a Gateway with this selector applies to the pods (none: every pod)."""
        if selector is None:
            return True
        pairs = selector.items() if isinstance(selector, Mapping) else selector
        labels = self.label_map
        return all(labels.get(k) == v for k, v in pairs)

    def labels_text(self) -> str:
        return "{" + ", ".join(f"{k}={v}" for k, v in self.labels) + "}"

    def describe(self) -> str:
        text = ", ".join(f"{k}={v}" for k, v in self.labels) or "no labels"
        return f"{self.name} ({text})"


def could_be_gateway(kind: str, text: str) -> bool:
    """``False`` when the resource's YAML text (without anchors or aliases) surely fails
    :func:`gateway_labels` (and, for a Service, :func:`translates_ports`): every string those
    tests look for is missing from it. A backslash (a double-quoted escape could spell them)
    answers ``True``."""
    if "\\" in text:
        return True
    if kind == "Service":
        return "istio" in text or "targetPort" in text
    return "proxyv2" in text or "inject.istio.io/templates" in text


def translates_ports(value: Mapping[str, Any]) -> bool:
    """Whether a Service could move a gateway's written port (``resolvePorts``): a selector,
    and a port whose targetPort is another number or a name. Any such Service may select the
    gateway pods, whatever its labels say."""
    service = _service(value)
    return service is not None and service.translates and any(
        target != number for number, target in service.ports)


def gateway_labels(value: dict[str, Any]) -> tuple[Source, dict[str, str]] | None:
    """``("pods", labels)`` for a Deployment, DaemonSet, StatefulSet or Pod whose pods are Istio
    gateways (the ``gateway`` injection template, or Istio's ``proxyv2`` image);
    ``("service", selector)`` for a Service selecting ``istio``-labelled pods (the selector is
    the part of the pod labels that is known); ``None`` for anything else."""
    kind = value.get("kind")
    spec = as_dict(value.get("spec")) or {}
    if kind == "Service":
        selector = as_str_map(spec.get("selector"))
        return ("service", selector) if "istio" in selector else None
    meta, pod_spec = _pod_template(value)
    if meta is None:
        return None
    labels = as_str_map(meta.get("labels"))
    templates = as_str_map(meta.get("annotations")).get("inject.istio.io/templates", "")
    images = [str((as_dict(c) or {}).get("image", "")) for c in as_list(pod_spec.get("containers"))]
    if labels and ("gateway" in templates or any("proxyv2" in i for i in images)):
        return ("pods", labels)
    return None


def _pod_template(value: Mapping[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    kind = value.get("kind")
    if kind in CONTROLLER_KINDS:
        spec = as_dict(value.get("spec")) or {}
        template = as_dict(spec.get("template")) or {}
        return as_dict(template.get("metadata")) or {}, as_dict(template.get("spec")) or {}
    if kind == "Pod":
        return as_dict(value.get("metadata")) or {}, as_dict(value.get("spec")) or {}
    return None, {}


def _identity(value: Mapping[str, Any]) -> tuple[str, str]:
    meta = as_dict(value.get("metadata")) or {}
    return as_str(meta.get("namespace")) or "default", as_str(meta.get("name")) or ""


class _Service(NamedTuple):
    namespace: str
    name: str
    selector: dict[str, str]
    #: (port, targetPort number or name)
    ports: tuple[tuple[int, int | str], ...]
    translates: bool


def _service(value: Mapping[str, Any]) -> _Service | None:
    spec = as_dict(value.get("spec")) or {}
    selector = as_str_map(spec.get("selector"))
    if not selector:
        return None  # an empty selector never selects pods (getPodServices)
    ports: list[tuple[int, int | str]] = []
    for raw in as_list(spec.get("ports")):
        p = as_dict(raw) or {}
        number = as_int(p.get("port"))
        if number is None:
            continue
        target = p.get("targetPort")
        target_value: int | str = number
        target_number = as_int(target)
        if target_number is not None:
            target_value = target_number
        elif isinstance(target, str) and target:
            target_value = int(target) if target.isdigit() else target
        ports.append((number, target_value))
    meta = as_dict(value.get("metadata")) or {}
    translates = NO_PORT_TRANSLATION not in as_str_map(meta.get("labels"))
    ns, name = _identity(value)
    return _Service(ns, name, selector, tuple(ports), translates)


def _container_ports(pod_spec: Mapping[str, Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in as_list(pod_spec.get("containers")):
        for raw in as_list((as_dict(c) or {}).get("ports")):
            p = as_dict(raw) or {}
            name, number = as_str(p.get("name")), as_int(p.get("containerPort"))
            if name and number is not None:
                out.setdefault(name, number)
    return out


def _port_map(services: Iterable[_Service], labels: Mapping[str, str],
              named: Mapping[str, int] | None = None) -> tuple[tuple[int, int], ...]:
    """``resolvePorts`` for pods labelled ``labels``: per Service port number, the targetPort
    of the first selecting Service (in bundle order, as the oldest) that has it. A named
    targetPort is the container port of that name (unknown: the Service port is skipped)."""
    out: dict[int, int] = {}
    for svc in services:
        if not svc.translates or not all(labels.get(k) == v for k, v in svc.selector.items()):
            continue
        for number, target in svc.ports:
            if number in out:
                continue
            if isinstance(target, int):
                out[number] = target
            elif named is not None and target in named:
                out[number] = named[target]
    return tuple(sorted(out.items()))


def _sorted_labels(mapping: Mapping[str, str]) -> Labels:
    return tuple(sorted(mapping.items()))


def _operator_gateways(value: Mapping[str, Any]) -> list[tuple[str, Labels, tuple[tuple[int, int],
                                                                                  ...]]]:
    """``(name, labels, ports)`` of an IstioOperator's enabled ingress gateways."""
    spec = as_dict(value.get("spec")) or {}
    components = as_dict(spec.get("components")) or {}
    out = []
    for raw in as_list(components.get("ingressGateways")):
        gw = as_dict(raw) or {}
        if gw.get("enabled") is False:
            continue
        name = as_str(gw.get("name")) or OPERATOR_DEFAULT_GATEWAY
        labels = dict(OPERATOR_DEFAULT_LABELS) if name == OPERATOR_DEFAULT_GATEWAY else {}
        labels.update(as_str_map(gw.get("label")))
        if not labels:
            continue
        k8s = as_dict(gw.get("k8s")) or {}
        service = as_dict(k8s.get("service")) or {}
        ports: tuple[tuple[int, int], ...] = OPERATOR_PORTS
        if as_list(service.get("ports")):
            pairs = []
            for p in as_list(service.get("ports")):
                pd = as_dict(p) or {}
                number, target = as_int(pd.get("port")), as_int(pd.get("targetPort"))
                if number is not None:
                    pairs.append((number, target if target is not None else number))
            ports = tuple(sorted(dict(pairs).items()))
        out.append((name, _sorted_labels(labels), ports))
    return out


def gateway_selectors(values: Iterable[object]) -> list[Labels]:
    """The selectors of the bundle's Istio Gateways (the seeds of assumed workloads); ``()``
    for a Gateway without one: it reaches also the pods no selector names."""
    out: dict[Labels, None] = {}
    for value in values:
        if not is_mapping(value) or value.get("kind") != "Gateway":
            continue
        if not str(value.get("apiVersion", "")).startswith("networking.istio.io/"):
            continue
        selector = as_str_map((as_dict(value.get("spec")) or {}).get("selector"))
        out.setdefault(_sorted_labels(selector), None)
    return list(out)


def is_istio_operator(value: Mapping[str, Any]) -> bool:
    api = as_str(value.get("apiVersion")) or ""
    return value.get("kind") == "IstioOperator" and api.startswith("install.istio.io/")


def collect(
    values: Sequence[Mapping[str, Any]],
    *,
    configured: Sequence[Labels] | None = None,
    selectors: Iterable[Labels] = (),
    ingress_selector: Labels = (("istio", "ingressgateway"),),
) -> tuple[Workload, ...]:
    """The gateway workloads of a bundle (see the module docstring). ``selectors``: the
    bundle's Gateway selectors, the seeds of assumed workloads."""
    services = [s for s in (_service(v) for v in values if v.get("kind") == "Service") if s]
    known: list[Workload] = []
    if configured:
        for i, configured_labels in enumerate(configured):
            known.append(Workload(f"gatewayLabels[{i}]", configured_labels, False,
                                  _port_map(services, dict(configured_labels))))
    else:
        for v in values:
            meta, pod_spec = _pod_template(v)
            if meta is None:
                continue
            found = gateway_labels(dict(v))
            if found is None:
                continue
            ns, name = _identity(v)
            pod_labels = found[1]
            local = [s for s in services if s.namespace == ns]
            known.append(Workload(f"{v.get('kind')} {ns}/{name}", _sorted_labels(pod_labels),
                                  False, _port_map(local, pod_labels, _container_ports(pod_spec)),
                                  ns))
        if not known:
            for v in values:
                if is_istio_operator(v):
                    for name, labels, ports in _operator_gateways(v):
                        known.append(Workload(f"IstioOperator gateway {name}", labels, False,
                                              ports))
    if known:
        return tuple(known)  # the input's (or the user's) word: these are the gateway pods
    # Gateway Services tell labels the pods surely carry; the ingress selector is where istiod
    # puts every Ingress (cert-manager's solvers included).
    seeds = [*selectors, *(_sorted_labels(s.selector) for s in services if "istio" in s.selector),
             ingress_selector]
    return tuple(_assumed(seeds, services))


def _compatible(a: Mapping[str, str], b: Mapping[str, str]) -> bool:
    return all(b.get(k, v) == v for k, v in a.items())


def _assumed(seeds: Sequence[Labels], services: Sequence[_Service]) -> list[Workload]:
    """Every union of compatible seeds (each a possible pod), deduplicated; the widest unions
    only when there would be more than :data:`MAX_ASSUMED`."""
    distinct = sorted(set(seeds))
    unions: dict[Labels, None] = {}
    frontier = [dict(s) for s in distinct]
    for s in frontier:
        unions.setdefault(_sorted_labels(s), None)
    while frontier and len(unions) <= MAX_ASSUMED:
        grown: list[dict[str, str]] = []
        for labels in frontier:
            for seed in distinct:
                if _compatible(labels, dict(seed)) and not set(seed) <= set(labels.items()):
                    union = {**labels, **dict(seed)}
                    key = _sorted_labels(union)
                    if key not in unions:
                        unions[key] = None
                        grown.append(union)
        frontier = grown
    if len(unions) > MAX_ASSUMED:
        unions = {}
        for seed in distinct:
            unions.setdefault(seed, None)
            widest = dict(seed)
            for other in distinct:
                if _compatible(widest, dict(other)):
                    widest.update(dict(other))
            unions.setdefault(_sorted_labels(widest), None)
    return [Workload("assumed gateway workload", labels, True,
                     _port_map(services, dict(labels)))
            for labels in sorted(unions, key=lambda k: (len(k), k))]
