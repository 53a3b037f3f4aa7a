"""Per-name HTTP-01 verdicts: would cert-manager's challenge request reach its solver?

For every name a Certificate (or an ingress-shim Ingress) needs, :func:`check` finds the issuer
and the solver cert-manager would pick (:mod:`merge_https_redirects.certmanager`). When that
solver is an ``http01.ingress`` solver of Istio's ingress class, it adds the solver Ingress
cert-manager would create (``pkg/issuer/acme/http/ingress.go`` ``buildIngressResource``: in the
Certificate's namespace, class annotation or ``ingressClassName`` from the solver, one rule for
the name with path ``/.well-known/acme-challenge/<token>`` of type ``ImplementationSpecific``,
backend port 8089) to the bundle and asks the routing model
(:mod:`merge_https_redirects.routing`) for ``GET http://<name>/.well-known/acme-challenge/<token>``
on every gateway workload the Ingress-derived Gateway selects.

A ``gatewayHTTPRoute`` solver is judged by :mod:`.gateway_api_routes`: the solver HTTPRoute
cert-manager would create, attached to the Gateway API listeners as istiod attaches it, and the
challenge simulated on the pods of every Istio Gateway it reaches.

Verdicts: ``pass`` (the solver answers), ``redirected`` (``require_tls`` or a redirect route
answers first), ``unroutable`` (404, another destination, or no gateway workload selected by the
Ingress-derived Gateway -- Istio issues 37329 and 49154; a solver HTTPRoute that attaches to no
HTTP listener on the port), ``impossible`` (a wildcard name and no DNS-01 solver: ACME offers no
HTTP-01 challenge for ``*.x``; a solver cert-manager refuses), ``out-of-scope`` (DNS-01, another
ingress class or Gateway controller, a non-ACME or missing issuer).

Gateway workload labels, in this order:

1. ``CheckOptions.workload_labels`` when given (the functionConfig);
2. the gateway workloads of the bundle: Deployments, DaemonSets, StatefulSets and Pods whose pod
   template asks for the ``gateway`` injection template (``inject.istio.io/templates``) or runs
   Istio's ``proxyv2`` image -- their pod labels; failing those, Services whose selector has an
   ``istio`` label (the selector is the part of the pod labels that is known);
3. otherwise one assumed workload labelled with the ingress selector (``istio: ingressgateway``,
   the default ``istioctl``/operator install); causes then say that the labels were assumed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any, Literal

from merge_https_redirects.model import certmanager as cm
from merge_https_redirects.model import certmanager_issuers as cmi
from merge_https_redirects.model.digest import sha256_hex
from merge_https_redirects.model.envoy import Answer, RouteConfig
from merge_https_redirects.model.gateway import is_subset, resource_identity
from merge_https_redirects.model.ingress import (
    INGRESS_NAMESPACE,
    IngressOptions,
    ingress_classes_of,
    ingress_gateway_name,
    ingress_is_istio,
    is_ingress,
)
from merge_https_redirects.model.record import Record
from merge_https_redirects.model.routing import RouteBase, RoutingInput
from merge_https_redirects.model.values import as_dict as _dict
from merge_https_redirects.model.values import is_mapping
from merge_https_redirects.model.workloads import Labels, Workload, gateway_selectors
from merge_https_redirects.model.workloads import collect as collect_workloads
from merge_https_redirects.results import ResourceRef

Verdict = Literal["pass", "redirected", "unroutable", "impossible", "unknown", "out-of-scope"]

CHALLENGE_PATH = "/.well-known/acme-challenge/"
#: ``acmeSolverListenPort``.
SOLVER_PORT = 8089
PROBE_TOKEN = "merge-https-redirects-probe"
SOLVER_PREFIX = "cm-acme-http-solver-"

_RANK = {"redirected": 0, "unroutable": 1, "pass": 2}


class CheckOptions(Record):
    """How the cluster is set up: the mesh's ingress selector and class, the plain HTTP port the
    challenge arrives on, and (optionally) the gateway workload's labels."""

    ingress_selector: Mapping[str, str]
    ingress_class: str
    port: int
    #: one label set per gateway workload (``gatewayLabels``)
    workload_labels: tuple[Labels, ...] | None
    #: issuers that live outside the bundle (the ``issuers`` setting), as resources; one in
    #: the bundle with the same kind, namespace and name wins
    issuers: tuple[Mapping[str, Any], ...]

    __slots__ = ("ingress_class", "ingress_selector", "issuers", "port", "workload_labels")
    _fields = ("ingress_selector", "ingress_class", "port", "workload_labels", "issuers")

    def __init__(
            self, ingress_selector: Mapping[str, str] | None = None, ingress_class: str = "istio",
            port: int = 80, workload_labels: tuple[Labels, ...] | None = None,
            issuers: tuple[Mapping[str, Any], ...] = ()) -> None:
        self.ingress_selector = ({"istio": "ingressgateway"} if ingress_selector is None
                                 else ingress_selector)
        self.ingress_class = ingress_class
        self.port = port
        self.workload_labels = workload_labels
        self.issuers = issuers

    @property
    def ingress(self) -> IngressOptions:
        return IngressOptions(dict(self.ingress_selector), self.ingress_class)


DEFAULT_OPTIONS = CheckOptions()


class NameVerdict(Record):
    """The verdict for one (Certificate or Ingress, name)."""

    subject: ResourceRef
    name: str
    issuer: str  # "ClusterIssuer/letsencrypt" or "-"
    solver: str  # short description or "-"
    verdict: Verdict
    cause: str
    field_path: str | None
    issuer_missing: bool
    warnings: tuple[str, ...]
    #: warnings about the issuer itself (a legacy API), reported on the issuer
    issuer_warnings: tuple[tuple[ResourceRef, str], ...]
    #: the rule reporting the verdict when not the verdict's usual one (Gateway API reasons)
    rule: str | None
    #: what the verdict rests on that the input does not tell (Gateway API: a Namespace not
    #: in the input, a manually deployed Gateway's pods)
    assumed: tuple[str, ...]

    __slots__ = (
        "assumed", "cause", "field_path", "issuer", "issuer_missing", "issuer_warnings", "name",
        "rule", "solver", "subject", "verdict", "warnings"
    )
    _fields = (
        "subject", "name", "issuer", "solver", "verdict", "cause", "field_path", "issuer_missing",
        "warnings", "issuer_warnings", "rule", "assumed",
    )

    def __init__(
            self, subject: ResourceRef, name: str, issuer: str, solver: str, verdict: Verdict,
            cause: str, field_path: str | None = None, issuer_missing: bool = False,
            warnings: tuple[str, ...] = (),
            issuer_warnings: tuple[tuple[ResourceRef, str], ...] = (), rule: str | None = None,
            assumed: tuple[str, ...] = ()) -> None:
        self.subject, self.name, self.issuer, self.solver = subject, name, issuer, solver
        self.verdict, self.cause, self.field_path = verdict, cause, field_path
        self.issuer_missing, self.warnings, self.issuer_warnings = (
            issuer_missing, warnings, issuer_warnings)
        self.rule, self.assumed = rule, assumed

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        s = self.subject
        return (s.namespace, s.kind, s.name, s.api_version, self.name)


# --------------------------------------------------------------------------------------------
# Gateway workloads


def gateway_workloads(resources: Sequence[object],
                      options: CheckOptions = DEFAULT_OPTIONS) -> tuple[Workload, ...]:
    """The gateway workloads to ask (:func:`merge_https_redirects.workloads.collect`)."""
    values = [r for r in resources if is_mapping(r)]
    return collect_workloads(
        values, configured=options.workload_labels, selectors=gateway_selectors(values),
        ingress_selector=tuple(sorted(options.ingress_selector.items())))


# --------------------------------------------------------------------------------------------
# The solver cert-manager would create


def _solver_name(namespace: str, name: str) -> str:
    digest = sha256_hex(f"{namespace}/{name}".encode())[:5]
    return SOLVER_PREFIX + digest


def _solver_path(solver_service: str) -> dict[str, Any]:
    return {
        "path": CHALLENGE_PATH + PROBE_TOKEN,
        "pathType": "ImplementationSpecific",
        "backend": {"service": {"name": solver_service, "port": {"number": SOLVER_PORT}}},
    }


#: The annotation that makes an IngressClass the cluster's default (``networking/v1``).
DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class"


def default_ingress_class(resources: Sequence[Mapping[str, Any]]) -> str | None:
    """The IngressClass Kubernetes' ``DefaultIngressClass`` admission gives an Ingress created
    without a class: the one annotated as default (none, or several: no class is set)."""
    found = [resource_identity(r)[3] for r in resources
             if r.get("kind") == "IngressClass"
             and str((_dict(r.get("metadata")) or {}).get("annotations", {}).get(
                 DEFAULT_CLASS_ANNOTATION, "")).lower() == "true"]
    return found[0] if len(found) == 1 else None


def solver_ingress(request: cm.NameRequest, solver: cmi.Solver,
                   resources: Sequence[object], default_class: str | None = None
                   ) -> tuple[list[object], dict[str, Any]] | None:
    """The bundle with the solver Ingress cert-manager would create (or the named Ingress with
    the challenge path added, ``addChallengePathToIngress``), and that Ingress. ``None`` when the
    solver names an Ingress that is not in the bundle."""
    service = _solver_name(request.namespace, request.name)
    host = "" if cmi.is_ip_address(request.name) else request.name
    if solver.ingress_name:
        for i, res in enumerate(resources):
            if not is_mapping(res) or not is_ingress(res):
                continue
            _, _, ns, name = resource_identity(res)
            if ns != request.namespace or name != solver.ingress_name:
                continue
            edited: dict[str, Any] = {**res, "spec": dict(_dict(res.get("spec")) or {})}
            rules = [dict(r) for r in edited["spec"].get("rules") or [] if isinstance(r, dict)]
            for rd in rules:
                if rd.get("host") == request.name:
                    http = dict(_dict(rd.get("http")) or {})
                    raw_paths = http.get("paths")
                    paths: list[Any] = raw_paths if isinstance(raw_paths, list) else []
                    http["paths"] = [_solver_path(service), *paths]
                    rd["http"] = http
                    break
            else:
                rules.append({"host": request.name,
                              "http": {"paths": [_solver_path(service)]}})
            edited["spec"]["rules"] = rules
            return [*resources[:i], edited, *resources[i + 1:]], edited
        return None
    annotations: dict[str, str] = {}
    spec: dict[str, Any] = {
        "rules": [{"host": host, "http": {"paths": [_solver_path(service)]}}],
    }
    if solver.ingress_class is not None:
        annotations["kubernetes.io/ingress.class"] = solver.ingress_class
    elif solver.ingress_class_name is not None:
        spec["ingressClassName"] = solver.ingress_class_name
    elif default_class is not None:
        # neither class nor name: the admission plugin assigns the default IngressClass
        spec["ingressClassName"] = default_class
    ingress: dict[str, Any] = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": service, "namespace": request.namespace,
                     "labels": {"acme.cert-manager.io/http01-solver": "true"},
                     "annotations": annotations},
        "spec": spec,
    }
    return [*resources, ingress], ingress


# --------------------------------------------------------------------------------------------
# Verdicts


def _classify(answer: Answer, expected: str) -> tuple[Verdict, str]:
    if answer.kind == "redirect":
        return "redirected", answer.cause
    if answer.kind == "route":
        if answer.destination == expected:
            return "pass", f"reaches the solver: {answer.cause}"
        return "unroutable", (f"routed to {answer.destination} instead of the solver "
                              f"{expected}: {answer.cause}")
    return "unroutable", answer.cause


class _Pending(Record):
    """A name whose solver goes through an Ingress: judged in one batch with all others."""

    request: cm.NameRequest
    solver: cmi.Solver
    issuer: str
    described: str
    warnings: tuple[str, ...]
    issuer_warnings: tuple[tuple[ResourceRef, str], ...]

    __slots__ = ("described", "issuer", "issuer_warnings", "request", "solver", "warnings")
    _fields = ("request", "solver", "issuer", "described", "warnings", "issuer_warnings")

    def __init__(
            self, request: cm.NameRequest, solver: cmi.Solver, issuer: str, described: str,
            warnings: tuple[str, ...],
            issuer_warnings: tuple[tuple[ResourceRef, str], ...] = ()) -> None:
        self.request, self.solver, self.issuer = request, solver, issuer
        self.described, self.warnings, self.issuer_warnings = described, warnings, issuer_warnings


class _GatewayPending(_Pending):
    """A name whose solver is ``gatewayHTTPRoute``: judged by :mod:`.gateway_api_routes`, not
    in the Ingress batches (tell the two apart by exact type)."""

    __slots__ = ()


#: The names are judged in this many batches (by host): the solver Ingresses of a large bundle
#: and their virtual hosts are the checker's largest transient; a batch's solvers do not touch
#: the answers for the other batches' names (see :func:`_batches`).
_BATCHES = 8
#: ... of at least this many names (a small bundle is judged at once: each batch rebuilds the
#: route configuration of the bundle's own hosts).
_MIN_BATCH = 256


def _host_key(name: str) -> str:
    """The virtual host a name's solver Ingress lands in (IP addresses: ``*``, all alike)."""
    return "" if cmi.is_ip_address(name) else name.lower()


def _batches(probes: Sequence[tuple[int, _Pending]]) -> list[list[tuple[int, _Pending]]]:
    """Up to :data:`_BATCHES` groups of probes, every probe of a host in the same group.

    A solver Ingress adds an Ingress-derived Gateway (a plain ``*`` server on port 80; these
    always sort before the bundle's Gateways, so the first server of the port is one of them in
    any group) and routes for its own host only. Judging a name is then independent of the
    solvers of other hosts; names of one host (and every IP address: their solver Ingresses
    have no host, they share ``*``) must be judged together."""
    by_host: dict[str, list[tuple[int, _Pending]]] = {}
    for probe in probes:
        by_host.setdefault(_host_key(probe[1].request.name), []).append(probe)
    size = max(-(-len(probes) // _BATCHES), _MIN_BATCH)
    batches: list[list[tuple[int, _Pending]]] = [[]]
    for group in by_host.values():
        if batches[-1] and len(batches[-1]) + len(group) > size:
            batches.append([])
        batches[-1].extend(group)
    return batches


#: Per pending name: ``(index of the workload, verdict, cause)`` per gateway workload the
#: solver's Ingress reaches; the workload index is ``-1`` when no workload was asked.
PerWorkload = dict[int, list[tuple[int, Verdict, str]]]


def _judge_all(pending: Sequence[_Pending], resources: Sequence[object],
               options: CheckOptions, workloads: Sequence[Workload]
               ) -> dict[int, tuple[Verdict, str]]:
    """The worst verdict of every pending name over the gateway workloads (see
    :func:`judge_per_workload`)."""
    return {i: min(((v, c) for _, v, c in found), key=lambda o: _RANK.get(o[0], 3))
            for i, found in judge_per_workload(pending, resources, options, workloads).items()}


def judge_per_workload(pending: Sequence[_Pending], resources: Sequence[object],
                       options: CheckOptions, workloads: Sequence[Workload],
                       source: RoutingInput | None = None, *, causes: bool = True
                       ) -> PerWorkload:
    """Verdicts for every pending name on every gateway workload, with every solver Ingress
    in the bundle (cert-manager solves a renewal wave's challenges side by side; istiod
    merges all Ingresses into one ``*`` server, so each name keeps its own exact virtual
    host). One route configuration per gateway workload, to which each batch of names
    (:func:`_batches`) adds its solvers' virtual hosts (:class:`RouteBase`): linear in the
    bundle. ``source``: ``resources`` read already (:class:`RoutingInput`); ``causes=False``:
    the verdicts only (the causes of names judged on a workload are left empty)."""
    out: PerWorkload = {}
    # A solver naming an existing Ingress edits it: the edits apply to every batch.
    bundle: list[object] = list(resources)
    edited = False
    probes: list[tuple[int, _Pending]] = []
    for i, p in enumerate(pending):
        if p.solver.ingress_name:
            built = solver_ingress(p.request, p.solver, bundle)
            if built is None:
                out[i] = [(-1, "out-of-scope", f"the solver adds the challenge path to Ingress "
                          f"{p.request.namespace}/{p.solver.ingress_name}, which is not in the "
                          f"input")]
                continue
            bundle = list(built[0])
            edited = True
        probes.append((i, p))
    mappings = [r for r in bundle if is_mapping(r)]
    classes = ingress_classes_of(mappings)
    default_class = default_ingress_class(mappings)
    selected = [(n, w) for n, w in enumerate(workloads)
                if is_subset(options.ingress_selector, w.label_map)]
    selector_text = ", ".join(f"{k}={v}" for k, v in sorted(options.ingress_selector.items()))
    # Per batch, the names to ask the workloads about (the others are judged already).
    batches: list[list[int]] = []
    for batch in _batches(probes):
        judged: list[int] = []
        for i, p in batch:
            ingress = _solver_of(mappings, p, default_class)
            if not ingress_is_istio(ingress, classes, options.ingress_class):
                out[i] = [(-1, "out-of-scope", f"the solver Ingress is not of Istio's class "
                           f"{options.ingress_class!r} ({p.solver.describe()})")]
                continue
            if not selected:
                _, _, ing_ns, ing_name = resource_identity(ingress)
                gw_ref = f"{INGRESS_NAMESPACE}/{ingress_gateway_name(ing_name, ing_ns)}"
                out[i] = [(-1, "unroutable", (
                    f"the solver Ingress becomes Gateway {gw_ref} selecting {selector_text}, "
                    f"but no gateway workload carries these labels (found: "
                    f"{'; '.join(w.describe() for w in workloads)}); Helm-installed gateways "
                    f"are labelled istio=<release> (Istio issues 37329, 49154): set meshConfig."
                    f"ingressSelector or label the gateway pods"))]
                continue
            judged.append(i)
        for i in judged:
            out[i] = []
        if judged:
            batches.append(judged)
    if not batches:
        return out
    if source is None:
        source = RoutingInput(mappings)
    elif edited:
        source = RoutingInput(mappings, reuse=source)
    path = CHALLENGE_PATH + PROBE_TOKEN
    for n, w in selected:
        base = RouteBase(source, w.label_map, w.resolve(options.port), ingress=options.ingress,
                         port_map=w.port_map, proxy_namespace=w.namespace)
        where = w.describe() + (" -- labels assumed, set gatewayLabels to be sure"
                                if w.assumed else "")
        for judged in batches:
            # A name redirected by its own virtual host is, whatever solvers are added: it is
            # answered without them (a renewal wave behind an httpsRedirect costs no solver).
            redirected: list[int] = []
            rest: list[int] = []
            for i in judged:
                (redirected if base.redirects_whatever_is_added(pending[i].request.name)
                 else rest).append(i)
            _answer(pending, redirected, base.config, path, n, where, out, causes)
            judged = rest
            if not judged:
                continue
            # the solver Ingresses are made again per workload: one batch's alive at a time
            added = [_solver_of((), pending[i], default_class) for i in judged
                     if not pending[i].solver.ingress_name]
            config = base.with_ingresses(added)
            del added
            _answer(pending, judged, config, path, n, where, out, causes)
            del config  # the next batch's configuration replaces it
        del base
    return out


def _answer(pending: Sequence[_Pending], judged: Sequence[int], config: RouteConfig, path: str,
            n: int, where: str, out: PerWorkload, causes: bool = True) -> None:
    """The verdicts of the names ``judged`` on workload ``n`` (``where``) by ``config``."""
    for i in judged:
        request = pending[i].request
        expected = (f"{_solver_name(request.namespace, request.name)}."
                    f"{request.namespace}.svc.cluster.local:{SOLVER_PORT}")
        verdict, cause = _classify(config.answer(request.name, path, causes=causes), expected)
        out[i].append((n, verdict, f"{cause} [on {where}]" if causes else ""))


def _solver_of(mappings: Sequence[Mapping[str, Any]], p: _Pending, default_class: str | None
               ) -> Mapping[str, Any]:
    """The solver Ingress of ``p``: the one it added its challenge path to (already in
    ``mappings``), or the new one cert-manager creates."""
    if p.solver.ingress_name:
        return _edited_ingress(mappings, p)
    built = solver_ingress(p.request, p.solver, (), default_class)
    assert built is not None  # a new Ingress is always built
    return built[1]


def _edited_ingress(mappings: Sequence[Mapping[str, Any]], p: _Pending) -> Mapping[str, Any]:
    """The Ingress ``p``'s solver added its challenge path to (already in ``mappings``)."""
    for res in mappings:
        if is_ingress(res):
            _, _, ns, name = resource_identity(res)
            if ns == p.request.namespace and name == p.solver.ingress_name:
                return res
    raise AssertionError("edited Ingress missing")  # pragma: no cover - edited just before


def _made(request: cm.NameRequest, issuer_warnings: tuple[tuple[ResourceRef, str], ...],
          verdict: Verdict, cause: str, issuer: str = "-", solver: str = "-", missing: bool = False,
          warnings: tuple[str, ...] = ()) -> NameVerdict:
    return NameVerdict(request.subject, request.name, issuer, solver, verdict, cause,
                       request.field_path, missing, request.warnings, issuer_warnings)


def _verdict_for(request: cm.NameRequest, issuers: Sequence[cmi.Issuer]
                 ) -> NameVerdict | _Pending | _GatewayPending:
    issuer_warnings: tuple[tuple[ResourceRef, str], ...] = ()
    make = partial(_made, request, issuer_warnings)  # (no closure: see tests/unit/test_compiled)

    if cm.is_external_issuer(request):
        return make("out-of-scope", f"external issuer (group {request.issuer_group})",
                    issuer=request.issuer_label)
    issuer = cm.find_issuer(issuers, request)
    if issuer is None:
        where = "" if request.issuer_kind == "ClusterIssuer" else f" in {request.namespace}"
        return make("unknown",
                    f"{request.issuer_label}{where} is not in the input or the issuers "
                    "setting: the solver is unknown",
                    issuer=f"{request.issuer_label} (missing)", missing=True)
    if issuer.legacy_warning:
        issuer_warnings = ((ResourceRef(issuer.api_version, issuer.kind, issuer.name,
                                        issuer.namespace), issuer.legacy_warning),)
        make = partial(_made, request, issuer_warnings)
    warnings: tuple[str, ...] = ()
    if issuer.issuer_type != "acme":
        return make("out-of-scope", f"{issuer.label} is a {issuer.issuer_type} issuer, not ACME",
                    issuer=issuer.label, warnings=warnings)
    solvers = issuer.solvers
    if not solvers and request.legacy_solvers is not None:
        solvers = request.legacy_solvers
    solver = cmi.select_solver(solvers, request.name, dict(request.order_labels))
    if solver is None:
        if request.is_wildcard:
            return make("impossible",
                        f"HTTP-01 cannot validate the wildcard {request.name} and no DNS-01 "
                        f"solver of {issuer.label} matches it", issuer=issuer.label,
                        warnings=warnings)
        return make("out-of-scope", f"no solver of {issuer.label} matches {request.name}: "
                    f"cert-manager cannot create a challenge", issuer=issuer.label,
                    warnings=warnings)
    if solver.invalid:
        return make("impossible", f"{solver.invalid} (the webhook refuses the issuer)",
                    issuer.label, solver.describe(), False, warnings)
    if solver.kind == "http01-ingress" and request.override_problem:
        return make("impossible", request.override_problem, issuer.label, solver.describe(),
                    False, warnings)
    solver = solver.with_overrides(request.override_name, request.override_class,
                                   request.override_class_name)
    described = solver.describe()
    if solver.kind == "dns01":
        return make("out-of-scope", "solved by DNS-01", issuer.label, described, False, warnings)
    if solver.kind == "http01-gateway":
        return _GatewayPending(request, solver, issuer.label, described, warnings,
                               issuer_warnings)
    if solver.kind != "http01-ingress":
        return make("unknown", "solver type not modelled", issuer.label, described,
                    False, warnings)
    return _Pending(request, solver, issuer.label, described, warnings, issuer_warnings)


def issuers_with(items: Sequence[Mapping[str, Any]], options: CheckOptions
                 ) -> tuple[list[cmi.Issuer], list[cmi.Issuer]]:
    """The bundle's issuers and those of the ``issuers`` setting that no issuer of the bundle
    overrides; and the overridden ones (the bundle's copy wins)."""
    own = cmi.issuers_of(items)
    keys = {(i.kind, i.namespace, i.name) for i in own}
    configured = cmi.issuers_of(options.issuers)
    extra = [i for i in configured if (i.kind, i.namespace, i.name) not in keys]
    overridden = [i for i in configured if (i.kind, i.namespace, i.name) in keys]
    return own + extra, overridden


def _first_verdicts(items: Sequence[Mapping[str, Any]], options: CheckOptions = DEFAULT_OPTIONS,
                    requests: Sequence[cm.NameRequest] | None = None
                    ) -> list[NameVerdict | _Pending | _GatewayPending]:
    """Per name: the verdict when it does not depend on routing, else what to probe.
    ``requests``: ``cm.names_needing_certificates(items)``, when the caller has it."""
    issuers, _ = issuers_with(items, options)
    if requests is None:
        requests = cm.names_needing_certificates(items)
    return [_verdict_for(r, issuers) for r in requests]


def check(resources: Sequence[object],
          options: CheckOptions = DEFAULT_OPTIONS) -> list[NameVerdict]:
    """One verdict per (Certificate or ingress-shim Ingress, name), ordered by resource
    (namespace, kind, name) and then by the order of names in it."""
    items = [r for r in resources if is_mapping(r)]
    first = _first_verdicts(items, options)
    pending = [v for v in first if type(v) is _Pending]
    results = _judge_all(pending, items, options, gateway_workloads(items, options))
    gateway_pending = [v for v in first if isinstance(v, _GatewayPending)]
    judged = iter(_judge_gateway_api(gateway_pending, items, options))
    verdicts: list[NameVerdict] = []
    n = 0
    for v in first:
        if isinstance(v, _GatewayPending):
            j = next(judged)
            r = v.request
            verdicts.append(NameVerdict(r.subject, r.name, v.issuer, v.described,
                                        j.verdict, j.cause, r.field_path, False,
                                        r.warnings + v.warnings, v.issuer_warnings, j.rule,
                                        j.assumed))
        elif isinstance(v, _Pending):
            verdict, cause = results[n]
            n += 1
            r = v.request
            verdicts.append(NameVerdict(r.subject, r.name, v.issuer, v.described, verdict,
                                        cause, r.field_path, False, r.warnings + v.warnings,
                                        v.issuer_warnings))
        else:
            verdicts.append(v)
    order = {id(v): i for i, v in enumerate(verdicts)}
    return sorted(verdicts, key=lambda v: (v.key[:4], order[id(v)]))


def _judge_gateway_api(pending: Sequence[_GatewayPending], items: Sequence[Mapping[str, Any]],
                       options: CheckOptions) -> list[Any]:
    """The Gateway API solvers' verdicts (``gateway_api_routes.judge``), imported only when
    a bundle has such solvers."""
    if not pending:
        return []
    from merge_https_redirects.model import gateway_api_routes as gwapi

    return gwapi.judge([gwapi.GatewayRequest(
        p.request.namespace, p.request.name, cmi.is_ip_address(p.request.name),
        p.solver.parent_refs, p.request.parent_override,
        _solver_name(p.request.namespace, p.request.name)) for p in pending],
        items, port=options.port, path=CHALLENGE_PATH + PROBE_TOKEN, solver_port=SOLVER_PORT,
        ingress=options.ingress)
