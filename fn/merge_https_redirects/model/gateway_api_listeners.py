"""Listener conflicts of a Gateway API Gateway and its ListenerSets, as istiod computes them
(``pilot/pkg/config/kube/gatewaycommon/listener_conflict.go``).

``ComputeGatewayListenerConflicts`` merges the Gateway's listeners (first, in order) and those of
the ListenerSets its ``allowedListeners`` accepts (``EligibleListenerSetsForConflict``; sorted by
creation time, then ``namespace/name``, ``orderedMergedListeners``) and marks every listener that
is not ``listenersDistinct`` from an earlier *winning* one; a listener that loses does not block
later ones. ``gateway_collection.go`` skips a conflicted listener (``if reason, ok :=
conflicts[l.Name]; ok {...; continue}``, in ``GatewayCollection`` and ``ListenerSetCollection``):
it gets no server, and no route attaches to it.

Also the label selectors of ``allowedRoutes`` and ``allowedListeners``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from merge_https_redirects.model.values import as_dict as _dict
from merge_https_redirects.model.values import as_list as _list
from merge_https_redirects.model.values import as_str as _str
from merge_https_redirects.model.values import as_str_items as _str_items
from merge_https_redirects.model.values import as_str_map as _str_map


class Listener(Protocol):
    """What is read of a ``gateway_api.Listener`` here (no import: that module imports this)."""

    @property
    def owner_kind(self) -> str: ...
    @property
    def owner_namespace(self) -> str: ...
    @property
    def owner_name(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def hostname(self) -> str: ...
    @property
    def port(self) -> int | None: ...
    @property
    def protocol(self) -> str: ...
    @property
    def ref(self) -> str: ...


NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
_HTTP_LIKE = ("HTTP", "HTTPS", "TLS")
_L4 = ("TCP", "UDP")


def _hostname(listener: Listener) -> str:
    """``listenerHostname``: unset is ``*``."""
    return listener.hostname or "*"


def listeners_distinct(a: Listener, b: Listener) -> bool:
    """``listenersDistinct``: whether two listeners can coexist on one Gateway."""
    if a.port != b.port:
        return True
    if (a.protocol in _L4 and b.protocol in _HTTP_LIKE) or (
            a.protocol in _HTTP_LIKE and b.protocol in _L4):
        return False
    if a.protocol in _L4 and b.protocol in _L4:
        return False
    if a.protocol in _HTTP_LIKE and b.protocol in _HTTP_LIKE:
        return _hostname(a) != _hostname(b)
    return a.protocol != b.protocol


def _reason(a: Listener, b: Listener) -> str:
    """``listenerConflictReason``."""
    if (a.protocol in _L4 and b.protocol in _L4) or a.protocol != b.protocol:
        return "ProtocolConflict"
    return "HostnameConflict"


def conflicts(ordered: Sequence[Listener]) -> dict[tuple[str, str, str, str], str]:
    """``ComputeGatewayListenerConflicts`` over ``ordered`` (Gateway listeners, then the eligible
    ListenerSets' in ``orderedMergedListeners`` order): per conflicted listener, keyed by
    ``(owner kind, namespace, name, listener name)``, why."""
    out: dict[tuple[str, str, str, str], str] = {}
    accepted: list[Listener] = []
    for listener in ordered:
        prior = next((p for p in accepted if not listeners_distinct(listener, p)), None)
        if prior is None:
            accepted.append(listener)
            continue
        key = (listener.owner_kind, listener.owner_namespace, listener.owner_name,
               listener.name)
        out.setdefault(key, (
            f"{listener.ref} ({listener.protocol}, port {listener.port}, hostname "
            f"{_hostname(listener)}) conflicts with the earlier {prior.ref} (port {prior.port}, "
            f"hostname {_hostname(prior)}): {_reason(listener, prior)}, istiod gives it no "
            f"server"))
    return out


# --------------------------------------------------------------------------------------------
# Label selectors


def selector_matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """``metav1.LabelSelectorAsSelector(...).Matches``: ``matchLabels`` and
    ``matchExpressions`` (In, NotIn, Exists, DoesNotExist); an empty selector matches all."""
    for k, v in _str_map(selector.get("matchLabels")).items():
        if labels.get(k) != v:
            return False
    for raw in _list(selector.get("matchExpressions")):
        expr = _dict(raw) or {}
        key, op = _str(expr.get("key")) or "", _str(expr.get("operator")) or ""
        values = _str_items(expr.get("values"))
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            return False  # LabelSelectorAsSelector fails: istiod allows nothing
    return True


def _only_name_label(selector: Mapping[str, Any]) -> bool:
    keys = set(_str_map(selector.get("matchLabels")))
    keys |= {_str((_dict(e) or {}).get("key")) or "" for e in _list(
        selector.get("matchExpressions"))}
    return keys == {NAMESPACE_NAME_LABEL}


@dataclass(frozen=True, slots=True)
class NamespaceCheck:
    """Whether a namespace is accepted (``allowed``), and the assumption made, if any."""

    allowed: bool
    assumed: str = ""


def namespace_accepted(how: str, selector: Mapping[str, Any] | None, own_namespace: str,
                       namespace: str, namespaces: Mapping[str, Mapping[str, str]],
                       what: str) -> NamespaceCheck:
    """``Same`` / ``All`` / ``Selector`` (``None``: nothing) for ``namespace``; ``what`` names
    the field for the assumption text."""
    if how == "All":
        return NamespaceCheck(True)
    if how == "Same":
        return NamespaceCheck(namespace == own_namespace)
    if how != "Selector" or selector is None:
        return NamespaceCheck(how == "Selector")  # a Selector without selector: "*" (istiod)
    labels = namespaces.get(namespace)
    if labels is None and not _only_name_label(selector):
        return NamespaceCheck(True, f"Namespace {namespace} is not in the input: assumed to "
                                    f"match the {what} selector")
    full = {**(labels or {}), NAMESPACE_NAME_LABEL: namespace}
    return NamespaceCheck(selector_matches(selector, full))
