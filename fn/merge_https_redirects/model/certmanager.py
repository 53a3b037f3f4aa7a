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
* Solver choice (issuers and solvers are read in :mod:`.certmanager_issuers`):
  ``pkg/controller/acmeorders/selectors`` (``Labels``, ``DNSNames``, ``DNSZones``)
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
from typing import Any

from merge_https_redirects.model.certmanager_issuers import (
    CM_GROUP,
    LEGACY_GROUP,
    Issuer,
    Selector,
    Solver,
    _group_version,
    _is_cm,
    legacy_api_warning,
)
from merge_https_redirects.model.gateway import resource_identity
from merge_https_redirects.model.record import Record
from merge_https_redirects.model.values import as_dict as _dict
from merge_https_redirects.model.values import as_list as _list
from merge_https_redirects.model.values import as_str as _str
from merge_https_redirects.model.values import as_str_items as _str_items
from merge_https_redirects.model.values import as_str_map as _str_map
from merge_https_redirects.model.values import is_mapping
from merge_https_redirects.results import ResourceRef

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


# --------------------------------------------------------------------------------------------
# Values


class NameRequest(Record):
    """One DNS name a Certificate (or an ingress-shim Ingress) needs validated."""

    subject: ResourceRef
    name: str
    namespace: str
    field_path: str
    issuer_kind: str
    issuer_name: str
    issuer_group: str
    order_labels: tuple[tuple[str, str], ...]
    override_name: str | None
    override_class: str | None
    override_class_name: str | None
    legacy_solvers: tuple[Solver, ...] | None  # certmanager.k8s.io spec.acme.config
    warnings: tuple[str, ...]
    #: the ``http01-parentref{name,kind,namespace}`` annotations (``None``: not set)
    parent_override: tuple[str | None, str | None, str | None]

    __slots__ = (
        "field_path", "issuer_group", "issuer_kind", "issuer_name", "legacy_solvers", "name",
        "namespace", "order_labels", "override_class", "override_class_name", "override_name",
        "parent_override", "subject", "warnings"
    )
    _fields = (
        "subject", "name", "namespace", "field_path", "issuer_kind", "issuer_name", "issuer_group",
        "order_labels", "override_name", "override_class", "override_class_name", "legacy_solvers",
        "warnings", "parent_override",
    )

    def __init__(
            self, subject: ResourceRef, name: str, namespace: str, field_path: str,
            issuer_kind: str, issuer_name: str, issuer_group: str,
            order_labels: tuple[tuple[str, str], ...] = (), override_name: str | None = None,
            override_class: str | None = None, override_class_name: str | None = None,
            legacy_solvers: tuple[Solver, ...] | None = None, warnings: tuple[str, ...] = (),
            parent_override: tuple[str | None, str | None, str | None] = (None, None, None),
    ) -> None:
        self.subject = subject
        self.name = name
        self.namespace = namespace
        self.field_path = field_path
        self.issuer_kind = issuer_kind
        self.issuer_name = issuer_name
        self.issuer_group = issuer_group
        self.order_labels = order_labels
        self.override_name = override_name
        self.override_class = override_class
        self.override_class_name = override_class_name
        self.legacy_solvers = legacy_solvers
        self.warnings = warnings
        self.parent_override = parent_override

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
        if not is_mapping(res):
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
    api, kind, ns, cert_name = resource_identity(res)
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
    # the same for every name of the Certificate
    subject = ResourceRef(api, kind, cert_name, ns)  # _ref(res)
    labels = tuple(sorted(_str_map(meta.get("labels")).items()))
    parent = (annotations.get(ANN_PARENT_NAME), annotations.get(ANN_PARENT_KIND),
              annotations.get(ANN_PARENT_NAMESPACE))
    return [
        NameRequest(
            subject=subject, name=name, namespace=ns, field_path=path,
            issuer_kind=issuer_kind, issuer_name=issuer_name, issuer_group=issuer_group,
            order_labels=labels,
            override_name=annotations.get(ANN_OVERRIDE_NAME),
            override_class=annotations.get(ANN_OVERRIDE_CLASS),
            override_class_name=annotations.get(ANN_OVERRIDE_CLASS_NAME),
            legacy_solvers=legacy,
            warnings=(warning,) if warning else (),
            parent_override=parent,
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


