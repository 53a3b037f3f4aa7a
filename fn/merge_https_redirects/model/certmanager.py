"""A pure model of what cert-manager needs to validate: names, issuers and the chosen ACME solver.

Upstream behaviour followed (repository ``cert-manager/cert-manager``):

* Names: ``Certificate.spec.dnsNames`` and ``spec.commonName``; ingress-shim
  (``pkg/controller/certificate-shim``) turns an Ingress annotated ``cert-manager.io/issuer`` or
  ``cert-manager.io/cluster-issuer`` into one Certificate per ``spec.tls[]`` entry with its
  ``hosts``; ``acme.cert-manager.io/http01-edit-in-place: "true"`` and
  ``acme.cert-manager.io/http01-ingress-class`` become the solver overrides
  ``acme.cert-manager.io/http01-override-ingress-name`` / ``-ingress-class``.
* gateway-shim (same package): an annotated Gateway API Gateway or ListenerSet gets a
  Certificate per Secret of its HTTPS/TLS listeners' hostnames, and the solver HTTPRoute's
  parent through the ``acme.cert-manager.io/http01-parentref*`` annotations.
* Issuer lookup: ``issuerRef.kind`` defaults to ``Issuer`` (same namespace as the Certificate);
  ``ClusterIssuer`` is cluster-scoped; an ``issuerRef.group`` other than cert-manager's names an
  external issuer.
* Solver choice: ``pkg/controller/acmeorders/selectors`` (``Labels``, ``DNSNames``, ``DNSZones``)
  and package ``solverpicker`` (``Pick``): a solver is eligible when the ACME server offers its
  challenge type (no HTTP-01 for a wildcard name) and every part of its selector matches
  (``matchLabels`` against the order's labels, ``dnsNames`` exact, ``dnsZones`` by whole
  labels). Among eligible solvers a ``dnsNames`` match wins, then the longest ``dnsZones`` match
  (in labels), then the most ``matchLabels``; a solver without selector is taken only when
  nothing was chosen yet; ties keep the earlier one.
* Legacy APIs: ``certmanager.k8s.io/v1alpha1`` (removed in 0.11; solvers per domain in the
  Certificate's ``spec.acme.config``) and ``cert-manager.io/v1alpha2|v1alpha3|v1beta1`` (removed
  in 1.7) are still read, with a warning.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from merge_https_redirects.model.gateway import resource_identity
from merge_https_redirects.model.values import as_dict as _dict
from merge_https_redirects.model.values import as_list as _list
from merge_https_redirects.model.values import as_str as _str
from merge_https_redirects.model.values import as_str_items as _str_items
from merge_https_redirects.model.values import as_str_map as _str_map
from merge_https_redirects.results import ResourceRef

CM_GROUP = "cert-manager.io"
LEGACY_GROUP = "certmanager.k8s.io"
ACME_GROUP = "acme.cert-manager.io"
CURRENT_VERSION = "v1"
ISSUER_KINDS = ("Issuer", "ClusterIssuer")

ANN_CLUSTER_ISSUER = "cert-manager.io/cluster-issuer"
ANN_ISSUER = "cert-manager.io/issuer"
ANN_ISSUER_KIND = "cert-manager.io/issuer-kind"
ANN_ISSUER_GROUP = "cert-manager.io/issuer-group"
LEGACY_ANN_CLUSTER_ISSUER = "certmanager.k8s.io/cluster-issuer"
LEGACY_ANN_ISSUER = "certmanager.k8s.io/issuer"
ANN_EDIT_IN_PLACE = "acme.cert-manager.io/http01-edit-in-place"
ANN_INGRESS_CLASS = "acme.cert-manager.io/http01-ingress-class"
ANN_OVERRIDE_NAME = "acme.cert-manager.io/http01-override-ingress-name"
ANN_OVERRIDE_CLASS = "acme.cert-manager.io/http01-override-ingress-class"
ANN_OVERRIDE_CLASS_NAME = "acme.cert-manager.io/http01-override-ingress-ingressclassname"
#: ingress-shim: copied to the Certificate as ``ANN_OVERRIDE_CLASS_NAME``
#: (``pkg/controller/certificate-shim/sync.go``)
ANN_INGRESS_CLASS_NAME = "acme.cert-manager.io/http01-ingress-ingressclassname"
#: ``pkg/apis/acme/v1/types.go``: the solver HTTPRoute's parentRef overrides
#: (``applyGatewayAPIAnnotationParentRefOverride``) and the ListenerSet fallback of gateway-shim
ANN_PARENT_NAME = "acme.cert-manager.io/http01-parentrefname"
ANN_PARENT_KIND = "acme.cert-manager.io/http01-parentrefkind"
ANN_PARENT_NAMESPACE = "acme.cert-manager.io/http01-parentrefnamespace"
ANN_PARENT_FALLBACK = "acme.cert-manager.io/http01-parentreffallback"
ANN_IGNORE_TLS_LISTENERS = "cert-manager.io/ignore-tls-listeners"
GWAPI_GROUP = "gateway.networking.k8s.io"

SolverKind = Literal["http01-ingress", "http01-gateway", "http01-other", "dns01", "unknown"]


def _group_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


def legacy_api_warning(api_version: str, kind: str) -> str | None:
    """A warning when a cert-manager resource uses an API version current releases reject."""
    group, version = _group_version(api_version)
    if group == LEGACY_GROUP:
        return (f"{kind} uses {api_version}, removed in cert-manager 0.11; "
                f"migrate to {CM_GROUP}/{CURRENT_VERSION}")
    if group == CM_GROUP and version != CURRENT_VERSION:
        return (f"{kind} uses {api_version}, removed in cert-manager 1.7; "
                f"migrate to {CM_GROUP}/{CURRENT_VERSION}")
    return None


# --------------------------------------------------------------------------------------------
# Values


@dataclass(frozen=True, slots=True)
class Selector:
    """``ACMEChallengeSolver.selector`` (``CertificateDNSNameSelector``)."""

    match_labels: tuple[tuple[str, str], ...] = ()
    dns_names: tuple[str, ...] = ()
    dns_zones: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Solver:
    """One ACME solver of an issuer, reduced to what the HTTP-01 check needs."""

    index: int
    kind: SolverKind
    selector: Selector | None = None
    ingress_class: str | None = None  # http01.ingress.class -> kubernetes.io/ingress.class
    ingress_class_name: str | None = None  # http01.ingress.ingressClassName
    ingress_name: str | None = None  # http01.ingress.name: add the path to that Ingress
    detail: str = ""  # dns01 provider, gateway parentRefs, ...
    field_path: str = ""
    #: ``http01.gatewayHTTPRoute.parentRefs`` as written
    parent_refs: tuple[Mapping[str, Any], ...] = ()

    def describe(self) -> str:
        where = f" ({self.field_path})" if self.field_path else ""
        if self.kind == "http01-ingress":
            if self.ingress_name:
                return f"http01.ingress name={self.ingress_name}{where}"
            if self.ingress_class is not None:
                return f"http01.ingress class={self.ingress_class}{where}"
            if self.ingress_class_name is not None:
                return f"http01.ingress ingressClassName={self.ingress_class_name}{where}"
            return f"http01.ingress (no class){where}"
        if self.kind == "http01-gateway":
            refs = ", ".join(
                f"{r.get('kind') or 'Gateway'} {r.get('namespace') or '(own namespace)'}/"
                f"{r.get('name')}" + (f"/{r['sectionName']}" if r.get("sectionName") else "")
                for r in self.parent_refs)
            return f"http01.gatewayHTTPRoute parentRefs=[{refs}]{where}"
        if self.kind == "dns01":
            return f"dns01 {self.detail}{where}".replace("  ", " ")
        if self.kind == "http01-other":
            return f"http01 {self.detail}{where}".strip()
        return f"unknown solver{where}"

    def with_overrides(self, name: str | None, ingress_class: str | None,
                       ingress_class_name: str | None = None) -> Solver:
        """Apply the Certificate's ``http01-override-ingress-*`` annotations to an
        ``http01.ingress`` solver: any one of them clears the solver's class, ingressClassName
        and name, then sets its own (``applyIngressParameterAnnotationOverrides`` in
        ``pkg/controller/acmeorders/util.go``; more than one is refused there, see
        :attr:`NameRequest.override_problem`)."""
        if self.kind != "http01-ingress" or (
                name is None and ingress_class is None and ingress_class_name is None):
            return self
        return Solver(self.index, self.kind, self.selector, ingress_class, ingress_class_name,
                      name or None, self.detail, self.field_path, self.parent_refs)

    @property
    def invalid(self) -> str | None:
        """cert-manager's webhook refuses an ingress solver that sets more than one of
        ``class``, ``ingressClassName`` and ``name``
        (``internal/apis/certmanager/validation/issuer.go``)."""
        if self.kind != "http01-ingress":
            return None
        set_ = [k for k, v in (("class", self.ingress_class),
                               ("ingressClassName", self.ingress_class_name),
                               ("name", self.ingress_name)) if v is not None]
        if len(set_) > 1:
            return (f"the solver sets {' and '.join(set_)}: cert-manager accepts only one of "
                    "'ingressClassName', 'name' or 'class'")
        return None


@dataclass(frozen=True, slots=True)
class Issuer:
    kind: str
    name: str
    namespace: str  # "" for a ClusterIssuer
    api_version: str
    issuer_type: str  # "acme", "ca", "selfSigned", "vault", ...
    solvers: tuple[Solver, ...] = ()
    legacy_warning: str | None = None

    @property
    def label(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True, slots=True)
class NameRequest:
    """One DNS name a Certificate (or an ingress-shim Ingress) needs validated."""

    subject: ResourceRef
    name: str
    namespace: str
    field_path: str
    issuer_kind: str
    issuer_name: str
    issuer_group: str
    order_labels: tuple[tuple[str, str], ...] = ()
    override_name: str | None = None
    override_class: str | None = None
    override_class_name: str | None = None
    legacy_solvers: tuple[Solver, ...] | None = None  # certmanager.k8s.io spec.acme.config
    warnings: tuple[str, ...] = field(default=())
    #: the ``http01-parentref{name,kind,namespace}`` annotations (``None``: not set)
    parent_override: tuple[str | None, str | None, str | None] = (None, None, None)

    @property
    def issuer_label(self) -> str:
        return f"{self.issuer_kind}/{self.issuer_name}"

    @property
    def override_problem(self) -> str | None:
        """More than one override annotation: cert-manager refuses to create the challenge."""
        given = [n for n, v in (("name", self.override_name), ("class", self.override_class),
                                ("ingressClassName", self.override_class_name)) if v is not None]
        if len(given) > 1:
            return (f"the Certificate sets the {', '.join(given)} override annotations: "
                    "cert-manager refuses more than one and creates no challenge")
        return None

    @property
    def is_wildcard(self) -> bool:
        return self.name.startswith("*")


# --------------------------------------------------------------------------------------------
# Names needing certificates


def _ref(res: Mapping[str, Any]) -> ResourceRef:
    api, kind, ns, name = resource_identity(res)
    return ResourceRef(api, kind, name, ns)


def _is_cm(res: Mapping[str, Any], kind: str) -> bool:
    if res.get("kind") != kind:  # the cheap test first: most resources are of other kinds
        return False
    group, _ = _group_version(_str(res.get("apiVersion")) or "")
    return group in (CM_GROUP, LEGACY_GROUP)


def _legacy_acme_config(spec: Mapping[str, Any]) -> tuple[Solver, ...] | None:
    """``certmanager.k8s.io/v1alpha1`` Certificates: ``spec.acme.config[].{http01,dns01,
    domains}``; each entry acts as a solver selecting its ``domains``."""
    acme = _dict(spec.get("acme"))
    if acme is None:
        return None
    solvers: list[Solver] = []
    for i, raw in enumerate(_list(acme.get("config"))):
        entry = _dict(raw)
        if entry is None:
            continue
        selector = Selector(dns_names=tuple(_str_items(entry.get("domains"))))
        path = f"spec.acme.config[{i}]"
        http = _dict(entry.get("http01"))
        dns = _dict(entry.get("dns01"))
        if http is not None:
            solvers.append(Solver(i, "http01-ingress", selector,
                                  ingress_class=_str(http.get("ingressClass")),
                                  ingress_name=_str(http.get("ingress")) or None,
                                  field_path=path))
        elif dns is not None:
            solvers.append(Solver(i, "dns01", selector, detail=_str(dns.get("provider")) or "",
                                  field_path=path))
    return tuple(solvers)


def names_needing_certificates(resources: Sequence[object]) -> list[NameRequest]:
    """Every (Certificate or ingress-shim Ingress, name) pair, in bundle order."""
    out: list[NameRequest] = []
    for res in resources:
        if not isinstance(res, Mapping):
            continue
        if _is_cm(res, "Certificate"):
            out.extend(_certificate_names(res))
        elif res.get("kind") == "Ingress":
            out.extend(_ingress_shim_names(res))
        elif res.get("kind") in ("Gateway", "ListenerSet") and _group_version(
                _str(res.get("apiVersion")) or "")[0] == GWAPI_GROUP:
            out.extend(_gateway_shim_names(res))
    return out


def _certificate_names(res: Mapping[str, Any]) -> list[NameRequest]:
    api, kind, ns, _ = resource_identity(res)
    spec = _dict(res.get("spec"))
    if spec is None:
        return []
    meta = _dict(res.get("metadata")) or {}
    annotations = _str_map(meta.get("annotations"))
    ref = _dict(spec.get("issuerRef")) or {}
    issuer_name = _str(ref.get("name")) or ""
    issuer_kind = _str(ref.get("kind")) or "Issuer"
    issuer_group = _str(ref.get("group")) or ""
    warning = legacy_api_warning(api, kind)
    names: list[tuple[str, str]] = []
    for i, dns in enumerate(_list(spec.get("dnsNames"))):
        if isinstance(dns, str) and dns and dns not in [n for n, _ in names]:
            names.append((dns, f"spec.dnsNames[{i}]"))
    common = _str(spec.get("commonName"))
    if common and common not in [n for n, _ in names]:
        names.append((common, "spec.commonName"))
    # ACME IP identifiers (RFC 8738): validated over HTTP-01 like names; the solver Ingress
    # then has no host (see http01.solver_ingress)
    for i, ip in enumerate(_list(spec.get("ipAddresses"))):
        if isinstance(ip, str) and ip and ip not in [n for n, _ in names]:
            names.append((ip, f"spec.ipAddresses[{i}]"))
    legacy = _legacy_acme_config(spec) if _group_version(api)[0] == LEGACY_GROUP else None
    return [
        NameRequest(
            subject=_ref(res), name=name, namespace=ns, field_path=path,
            issuer_kind=issuer_kind, issuer_name=issuer_name, issuer_group=issuer_group,
            order_labels=tuple(sorted(_str_map(meta.get("labels")).items())),
            override_name=annotations.get(ANN_OVERRIDE_NAME),
            override_class=annotations.get(ANN_OVERRIDE_CLASS),
            override_class_name=annotations.get(ANN_OVERRIDE_CLASS_NAME),
            legacy_solvers=legacy,
            warnings=(warning,) if warning else (),
            parent_override=(annotations.get(ANN_PARENT_NAME), annotations.get(ANN_PARENT_KIND),
                             annotations.get(ANN_PARENT_NAMESPACE)),
        )
        for name, path in names
    ]


def _gateway_shim_names(res: Mapping[str, Any]) -> list[NameRequest]:
    """gateway-shim (``pkg/controller/certificate-shim/sync.go``): an annotated Gateway or
    ListenerSet gets a Certificate per Secret of its HTTPS/TLS listeners (``handleGatewayAPI
    Listeners``: not Passthrough, not in ``ignore-tls-listeners``, with a hostname and a
    ``tls`` block whose ``certificateRefs`` are Secrets of its own namespace; ``mode`` defaults
    to Terminate in the CRD); ``setIssuerSpecificConfig`` makes the Gateway the solver route's
    parent (a ListenerSet: itself, or with ``http01-parentreffallback`` its Gateway)."""
    api, kind, ns, obj_name = resource_identity(res)
    meta = _dict(res.get("metadata")) or {}
    ann = _str_map(meta.get("annotations"))
    if ANN_CLUSTER_ISSUER in ann:
        issuer_kind, issuer_name = "ClusterIssuer", ann[ANN_CLUSTER_ISSUER]
    elif ANN_ISSUER in ann:
        issuer_kind, issuer_name = "Issuer", ann[ANN_ISSUER]
    else:
        return []
    issuer_kind = ann.get(ANN_ISSUER_KIND, issuer_kind)
    spec = _dict(res.get("spec")) or {}
    parent: tuple[str | None, str | None, str | None] = (obj_name, "Gateway", None)
    if kind == "ListenerSet":
        parent = (obj_name, "ListenerSet", None)
        if ann.get(ANN_PARENT_FALLBACK, "").lower() in ("true", "1", "t"):
            ref = _dict(spec.get("parentRef")) or {}
            parent = (_str(ref.get("name")), "Gateway", _str(ref.get("namespace")) or ns)
    ignored = {p.strip() for p in ann.get(ANN_IGNORE_TLS_LISTENERS, "").split(",")}
    out: list[NameRequest] = []
    seen: set[str] = set()
    for i, raw in enumerate(_list(spec.get("listeners"))):
        listener = _dict(raw) or {}
        tls = _dict(listener.get("tls"))
        host = _str(listener.get("hostname"))
        if (listener.get("protocol") not in ("HTTPS", "TLS") or tls is None or not host
                or (_str(tls.get("mode")) or "Terminate") != "Terminate"
                or _str(listener.get("name")) in ignored):
            continue
        refs = [_dict(r) or {} for r in _list(tls.get("certificateRefs"))]
        if not refs or any((_str(r.get("group")) or "") not in ("", "core")
                           or (_str(r.get("kind")) or "Secret") != "Secret"
                           or (_str(r.get("namespace")) or ns) != ns for r in refs):
            continue
        if host in seen:
            continue
        seen.add(host)
        out.append(NameRequest(
            subject=ResourceRef(api, kind, obj_name, ns), name=host, namespace=ns,
            field_path=f"spec.listeners[{i}].hostname", issuer_kind=issuer_kind,
            issuer_name=issuer_name, issuer_group=ann.get(ANN_ISSUER_GROUP, ""),
            order_labels=tuple(sorted(_str_map(meta.get("labels")).items())),
            override_name=obj_name if ann.get(ANN_EDIT_IN_PLACE) == "true" else None,
            override_class=ann.get(ANN_INGRESS_CLASS) or None,
            override_class_name=ann.get(ANN_INGRESS_CLASS_NAME) or None,
            parent_override=parent))
    return out


def _ingress_shim_names(res: Mapping[str, Any]) -> list[NameRequest]:
    api, _, ns, ing_name = resource_identity(res)
    meta = _dict(res.get("metadata")) or {}
    ann = _str_map(meta.get("annotations"))
    warnings: list[str] = []
    if ANN_CLUSTER_ISSUER in ann:
        kind, name = "ClusterIssuer", ann[ANN_CLUSTER_ISSUER]
    elif ANN_ISSUER in ann:
        kind, name = ann.get(ANN_ISSUER_KIND, "Issuer"), ann[ANN_ISSUER]
    elif LEGACY_ANN_CLUSTER_ISSUER in ann or LEGACY_ANN_ISSUER in ann:
        legacy_key = (LEGACY_ANN_CLUSTER_ISSUER if LEGACY_ANN_CLUSTER_ISSUER in ann
                      else LEGACY_ANN_ISSUER)
        kind = "ClusterIssuer" if legacy_key == LEGACY_ANN_CLUSTER_ISSUER else "Issuer"
        name = ann[legacy_key]
        warnings.append(f"Ingress annotation {legacy_key} is read only by cert-manager < 0.11; "
                        f"use {legacy_key.replace(LEGACY_GROUP, CM_GROUP)}")
    else:
        return []
    spec = _dict(res.get("spec")) or {}
    override_name = ing_name if ann.get(ANN_EDIT_IN_PLACE) == "true" else None
    override_class = ann.get(ANN_INGRESS_CLASS) or None  # empty: not copied (sync.go)
    override_class_name = ann.get(ANN_INGRESS_CLASS_NAME) or None
    out: list[NameRequest] = []
    seen: set[str] = set()
    for t, tls in enumerate(_list(spec.get("tls"))):
        td = _dict(tls) or {}
        for h, host in enumerate(_list(td.get("hosts"))):
            if not isinstance(host, str) or not host or host in seen:
                continue
            seen.add(host)
            out.append(NameRequest(
                subject=ResourceRef(api, "Ingress", ing_name, ns), name=host, namespace=ns,
                field_path=f"spec.tls[{t}].hosts[{h}]", issuer_kind=kind, issuer_name=name,
                issuer_group=ann.get(ANN_ISSUER_GROUP, ""),
                order_labels=tuple(sorted(_str_map(meta.get("labels")).items())),
                override_name=override_name, override_class=override_class,
                override_class_name=override_class_name, warnings=tuple(warnings),
            ))
    return out


# --------------------------------------------------------------------------------------------
# Issuers and solvers


def _read_selector(raw: object) -> Selector | None:
    d = _dict(raw)
    if d is None:
        return None
    return Selector(
        match_labels=tuple(sorted(_str_map(d.get("matchLabels")).items())),
        dns_names=tuple(_str_items(d.get("dnsNames"))),
        dns_zones=tuple(_str_items(d.get("dnsZones"))),
    )


def read_solver(index: int, raw: object, path: str) -> Solver:
    d = _dict(raw) or {}
    selector = _read_selector(d.get("selector")) if "selector" in d else None
    http = _dict(d.get("http01"))
    dns = _dict(d.get("dns01"))
    if http is not None:
        ing = _dict(http.get("ingress"))
        if ing is not None:
            return Solver(index, "http01-ingress", selector,
                          ingress_class=_str(ing.get("class")),
                          ingress_class_name=_str(ing.get("ingressClassName")),
                          ingress_name=_str(ing.get("name")) or None, field_path=path)
        route = _dict(http.get("gatewayHTTPRoute"))
        if route is not None:
            refs = tuple(r for r in (_dict(x) for x in _list(route.get("parentRefs")))
                         if r is not None)
            return Solver(index, "http01-gateway", selector, field_path=path, parent_refs=refs)
        other = ", ".join(sorted(str(k) for k in http)) or "(empty)"
        return Solver(index, "http01-other", selector, detail=other, field_path=path)
    if dns is not None:
        providers = sorted(str(k) for k in dns if k not in ("cnameStrategy",))
        return Solver(index, "dns01", selector, detail=", ".join(providers), field_path=path)
    return Solver(index, "unknown", selector, field_path=path)


def read_issuer(res: Mapping[str, Any]) -> Issuer | None:
    api, kind, ns, name = resource_identity(res)
    spec = _dict(res.get("spec"))
    if not name or spec is None:
        return None
    types = [k for k in ("acme", "ca", "selfSigned", "vault", "venafi") if k in spec]
    issuer_type = types[0] if types else "unknown"
    solvers: list[Solver] = []
    acme = _dict(spec.get("acme"))
    if acme is not None:
        for i, raw in enumerate(_list(acme.get("solvers"))):
            solvers.append(read_solver(i, raw, f"spec.acme.solvers[{i}]"))
    return Issuer(kind, name, "" if kind == "ClusterIssuer" else ns, api, issuer_type,
                  tuple(solvers), legacy_api_warning(api, kind))


def issuers_of(resources: Sequence[object]) -> list[Issuer]:
    out: list[Issuer] = []
    for res in resources:
        if isinstance(res, Mapping) and res.get("kind") in ISSUER_KINDS and any(
                _is_cm(res, k) for k in ISSUER_KINDS):
            issuer = read_issuer(res)
            if issuer is not None:
                out.append(issuer)
    return out


def find_issuer(issuers: Sequence[Issuer], request: NameRequest) -> Issuer | None:
    """``ClusterIssuer`` by name; ``Issuer`` by name in the Certificate's namespace."""
    for issuer in issuers:
        if issuer.kind != request.issuer_kind or issuer.name != request.issuer_name:
            continue
        if issuer.kind == "ClusterIssuer" or issuer.namespace == request.namespace:
            return issuer
    return None


def is_external_issuer(request: NameRequest) -> bool:
    return bool(request.issuer_group) and request.issuer_group not in (CM_GROUP, LEGACY_GROUP)


def _count_labels(name: str) -> int:
    return len([p for p in name.strip(".").split(".") if p])


def _compare_domain_name(zone: str, name: str) -> int:
    """``dns.CompareDomainName``: number of labels the two names share, from the right
    (case-insensitive)."""
    a = [p.lower() for p in zone.strip(".").split(".") if p]
    b = [p.lower() for p in name.strip(".").split(".") if p]
    n = 0
    while n < min(len(a), len(b)) and a[-1 - n] == b[-1 - n]:
        n += 1
    return n


def selector_matches(selector: Selector, labels: Mapping[str, str],
                     name: str) -> tuple[bool, int, int, int]:
    """``(matches, labels, dnsNames, dnsZones)`` as the three cert-manager selectors count."""
    labels_ok, n_labels = True, 0
    for k, v in selector.match_labels:
        if labels.get(k) != v:
            labels_ok = False
            break
        n_labels += 1
    names_ok, n_names = True, 0
    if selector.dns_names:
        names_ok = name in selector.dns_names
        n_names = 1 if names_ok else 0
    zones_ok, n_zones = True, 0
    if selector.dns_zones:
        for zone in selector.dns_zones:
            matching = _compare_domain_name(zone, name)
            if matching == _count_labels(zone) and matching > n_zones:
                n_zones = matching
        zones_ok = n_zones > 0
    return labels_ok and names_ok and zones_ok, n_labels, n_names, n_zones


def offered_challenges(name: str) -> tuple[str, ...]:
    """ACME servers offer only DNS-01 for a wildcard name (RFC 8555 section 7.1.3), and no
    DNS-01 for an IP address (RFC 8738 section 7: HTTP-01 and TLS-ALPN-01 only)."""
    if name.startswith("*"):
        return ("dns-01",)
    return ("http-01",) if is_ip_address(name) else ("http-01", "dns-01")


_IPV4_CHARS = frozenset("0123456789.")


def is_ip_address(name: str) -> bool:
    """An IPv4 or IPv6 address (an ACME IP identifier), not a DNS name."""
    if ":" not in name and not _IPV4_CHARS.issuperset(name):
        return False  # what ``ip_address`` would refuse, without raising (most names)
    import ipaddress  # rare: only names that may be addresses

    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def select_solver(solvers: Sequence[Solver], name: str,
                  labels: Mapping[str, str]) -> Solver | None:
    """cert-manager's ``solverpicker.Pick``: the most specific eligible
    solver, earlier solvers winning ties."""
    offered = offered_challenges(name)
    chosen: Solver | None = None
    c_labels = c_names = c_zones = 0
    for solver in solvers:
        ctype = "dns-01" if solver.kind == "dns01" else (
            "http-01" if solver.kind.startswith("http01") else "")
        if ctype not in offered:
            continue
        if solver.selector is None:
            if chosen is None:
                chosen = solver
            continue
        ok, n_labels, n_names, n_zones = selector_matches(solver.selector, labels, name)
        if not ok:
            continue
        take = False
        if chosen is None:
            take = True
        elif (n_names > 0) != (c_names > 0):
            take = n_names > 0
        elif n_zones != c_zones:
            take = n_zones > c_zones
        else:
            take = n_labels > c_labels
        if take:
            chosen, c_labels, c_names, c_zones = solver, n_labels, n_names, n_zones
    return chosen
