"""cert-manager's issuers and their ACME solvers: reading them, and which solver a name gets.

Upstream (``cert-manager/cert-manager``): ``pkg/apis/acme/v1`` (an issuer's ``spec.acme.solvers``
and their ``selector``), ``pkg/controller/acmeorders/selectors`` (``Labels``, ``DNSNames``,
``DNSZones``) and package ``solverpicker`` (``Pick``): a solver is eligible when the ACME server
offers its challenge type (no HTTP-01 for a wildcard name) and every part of its selector
matches; a ``dnsNames`` match wins, then the longest ``dnsZones`` match (in labels), then the
most ``matchLabels``; a solver without selector is taken only when nothing was chosen yet; ties
keep the earlier one. :mod:`.certmanager` reads the names that need certificates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from merge_https_redirects.model.gateway import resource_identity
from merge_https_redirects.model.record import Record
from merge_https_redirects.model.values import as_dict as _dict
from merge_https_redirects.model.values import as_list as _list
from merge_https_redirects.model.values import as_str as _str
from merge_https_redirects.model.values import as_str_items as _str_items
from merge_https_redirects.model.values import as_str_map as _str_map
from merge_https_redirects.model.values import is_mapping

CM_GROUP = "cert-manager.io"


LEGACY_GROUP = "certmanager.k8s.io"


ACME_GROUP = "acme.cert-manager.io"


CURRENT_VERSION = "v1"


ISSUER_KINDS = ("Issuer", "ClusterIssuer")


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


class Selector(Record):
    """``ACMEChallengeSolver.selector`` (``CertificateDNSNameSelector``)."""

    match_labels: tuple[tuple[str, str], ...]
    dns_names: tuple[str, ...]
    dns_zones: tuple[str, ...]

    __slots__ = ("dns_names", "dns_zones", "match_labels")
    _fields = ("match_labels", "dns_names", "dns_zones")

    def __init__(
            self, match_labels: tuple[tuple[str, str], ...] = (), dns_names: tuple[str, ...] = (),
            dns_zones: tuple[str, ...] = ()) -> None:
        self.match_labels = match_labels
        self.dns_names = dns_names
        self.dns_zones = dns_zones


class Solver(Record):
    """One ACME solver of an issuer, reduced to what the HTTP-01 check needs."""

    index: int
    kind: SolverKind
    selector: Selector | None
    ingress_class: str | None  # http01.ingress.class -> kubernetes.io/ingress.class
    ingress_class_name: str | None  # http01.ingress.ingressClassName
    ingress_name: str | None  # http01.ingress.name: add the path to that Ingress
    detail: str  # dns01 provider, gateway parentRefs, ...
    field_path: str
    #: ``http01.gatewayHTTPRoute.parentRefs`` as written
    parent_refs: tuple[Mapping[str, Any], ...]

    __slots__ = (
        "detail", "field_path", "index", "ingress_class", "ingress_class_name", "ingress_name",
        "kind", "parent_refs", "selector"
    )
    _fields = (
        "index", "kind", "selector", "ingress_class", "ingress_class_name", "ingress_name",
        "detail", "field_path", "parent_refs",
    )

    def __init__(
            self, index: int, kind: SolverKind, selector: Selector | None = None,
            ingress_class: str | None = None, ingress_class_name: str | None = None,
            ingress_name: str | None = None, detail: str = "", field_path: str = "",
            parent_refs: tuple[Mapping[str, Any], ...] = ()) -> None:
        self.index = index
        self.kind = kind
        self.selector = selector
        self.ingress_class = ingress_class
        self.ingress_class_name = ingress_class_name
        self.ingress_name = ingress_name
        self.detail = detail
        self.field_path = field_path
        self.parent_refs = parent_refs

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


class Issuer(Record):
    kind: str
    name: str
    namespace: str  # "" for a ClusterIssuer
    api_version: str
    issuer_type: str  # "acme", "ca", "selfSigned", "vault", ...
    solvers: tuple[Solver, ...]
    legacy_warning: str | None

    __slots__ = (
        "api_version", "issuer_type", "kind", "legacy_warning", "name", "namespace", "solvers"
    )
    _fields = (
        "kind", "name", "namespace", "api_version", "issuer_type", "solvers", "legacy_warning",
    )

    def __init__(
            self, kind: str, name: str, namespace: str, api_version: str, issuer_type: str,
            solvers: tuple[Solver, ...] = (), legacy_warning: str | None = None) -> None:
        self.kind = kind
        self.name = name
        self.namespace = namespace
        self.api_version = api_version
        self.issuer_type = issuer_type
        self.solvers = solvers
        self.legacy_warning = legacy_warning

    @property
    def label(self) -> str:
        return f"{self.kind}/{self.name}"


def _is_cm(res: Mapping[str, Any], kind: str) -> bool:
    if res.get("kind") != kind:  # the cheap test first: most resources are of other kinds
        return False
    group, _ = _group_version(_str(res.get("apiVersion")) or "")
    return group in (CM_GROUP, LEGACY_GROUP)


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
        if is_mapping(res) and res.get("kind") in ISSUER_KINDS and any(
                _is_cm(res, k) for k in ISSUER_KINDS):
            issuer = read_issuer(res)
            if issuer is not None:
                out.append(issuer)
    return out


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
