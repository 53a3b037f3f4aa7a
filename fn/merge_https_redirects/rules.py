"""Stable IDs of every finding, with what each one means.

IDs never change meaning once released; the README's rule table and ``--help`` are generated from
this registry (see :func:`rules_table`).
"""

from __future__ import annotations

from typing import NamedTuple

TYPE_CHECKING = False  # what follows is for annotations only, never needed at run time
if TYPE_CHECKING:
    from typing import Literal


# Records on the start-up path are NamedTuples: ``dataclasses`` would import ``inspect`` and
# build each class with ``exec``, a quarter of the function's start-up time.
class Rule(NamedTuple):
    id: str
    name: str
    severity: Literal["error", "warning", "info"]
    doc: str


_RULES = [
    # --- the rewrite (merge mode) ---
    Rule("MHR000", "summary", "info", "Summary of what the run changed."),
    Rule("MHR001", "redirect-server-removed", "info",
         "A port-80 httpsRedirect server was removed from a Gateway; the dedicated Gateway of "
         "each gateway workload it reached now redirects that host."),
    Rule("MHR002", "dedicated-gateway-added", "info",
         "A dedicated redirect Gateway (hosts [\"*\"], httpsRedirect, no VirtualService bound) "
         "was added for one or more gateway workloads."),
    Rule("MHR003", "dedicated-gateway-reused", "info",
         "An existing Gateway already has the dedicated shape and is kept as the redirect "
         "Gateway of the gateway workloads it reaches."),
    Rule("MHR004", "gateway-deleted", "info",
         "A Gateway left without servers was deleted."),
    Rule("MHR005", "gateway-reference-dropped", "info",
         "A VirtualService `gateways` entry pointing at a deleted Gateway or at a dedicated "
         "Gateway was dropped."),
    Rule("MHR006", "virtualservice-deleted", "warning",
         "A VirtualService bound only to Gateways that served nothing but redirects was deleted: "
         "its routes could never be reached, and an empty `gateways` list would bind it to the "
         "mesh."),
    Rule("MHR007", "host-not-served", "warning",
         "IST0132: a VirtualService host is not served by any server of a Gateway it references."),
    Rule("MHR008", "conflict", "error",
         "The routing simulation shows that the rewrite would change how a host answers plain "
         "HTTP on a gateway workload (a plain server would capture or expose a redirected host, "
         "a non-HTTP server owns the port...), or no dedicated Gateway could reach the workload "
         "alone: the Gateways reaching that workload are left unchanged."),
    Rule("MHR009", "conflict-skipped", "warning",
         "onConflict: skip left the Gateways of a conflicting gateway workload unchanged."),
    Rule("MHR010", "invalid-resource", "error",
         "An Istio resource has a field of the wrong type or shape; it is left untouched."),
    Rule("MHR011", "routing-regression", "error",
         "The rewrite would change how a host answers plain HTTP, or which names pass HTTP-01, "
         "and could not be planned without it; nothing was changed (a bug: please report it)."),
    Rule("MHR012", "legacy-api", "warning",
         "A resource uses an API version that current controllers no longer serve."),
    Rule("MHR013", "duplicate-resource", "error",
         "Two resources of the input share group, kind, namespace and name: which one applies "
         "is ambiguous, so nothing was changed."),
    Rule("MHR014", "workloads-assumed", "info",
         "The input does not tell the gateway pods' labels: the rewrite was proven on every pod "
         "the Gateway selectors allow (set gatewayLabels to be exact)."),
    Rule("MHR015", "bind-redirect-kept", "warning",
         "A port-80 httpsRedirect server with `bind` has a listener of its own, which the "
         "dedicated Gateway does not reach: it was left in place, and the challenge for its "
         "hosts stays redirected on that address."),
    Rule("MHR016", "no-workload", "warning",
         "A Gateway with port-80 redirect servers applies to none of the gateway workloads the "
         "input or gatewayLabels name: it was left unchanged."),
    Rule("MHR017", "kustomize-not-read", "warning",
         "A kustomization entry is remote or leaves the given directories: its resources were "
         "not read, and their Gateways are not judged."),
    Rule("MHR018", "gateway-patch", "warning",
         "A kustomize patch touches a Gateway while the run changed port-80 servers: the patch "
         "can put a removed redirect server back (check the built output)."),
    # --- the HTTP-01 checker (check mode, explain) ---
    Rule("MHR020", "http01-summary", "info", "Summary of the HTTP-01 check."),
    Rule("MHR021", "http01-redirected", "error",
         "The solver's challenge URL for this name is redirected to https before any route."),
    Rule("MHR022", "http01-unroutable", "error",
         "The solver's challenge URL for this name reaches no route (404) or no gateway workload."),
    Rule("MHR023", "http01-impossible", "error",
         "HTTP-01 cannot validate this name (a wildcard needs DNS-01)."),
    Rule("MHR024", "http01-out-of-scope", "info",
         "The name is solved by DNS-01, another ingress class or a Gateway of another "
         "controller: not checked here."),
    Rule("MHR025", "issuer-missing", "warning",
         "The referenced Issuer or ClusterIssuer is not in the bundle."),
    Rule("MHR026", "http01-unknown", "error",
         "The check cannot judge this name: its issuer is neither in the input nor in the "
         "`issuers` setting, or its solver type is not modelled (a warning with "
         "`failOnUnknown: false`)."),
    Rule("MHR027", "issuer-setting-overridden", "warning",
         "An issuer of the `issuers` setting is also in the input: the input's copy is the one "
         "judged."),
    Rule("MHR028", "assumed-workload-unselected", "warning",
         "A name passed on an assumed gateway workload that none of the bundle's Gateways "
         "selects: whether the real pods carry those labels (and the bundle's redirects apply "
         "to them) is unknown; set gatewayLabels."),
    Rule("MHR030", "route-redirect-added", "info",
         "A gateway workload's redirect is served by routes (strategy `route`, or `auto` where "
         "the simulation refused the dedicated `*` Gateway): a plain Gateway for the redirected "
         "hosts and a VirtualService bound only to it whose catch-all route redirects to https "
         "(301)."),
    Rule("MHR031", "route-redirect-kept", "info",
         "A plain Gateway and its VirtualService that redirect every request to https (the "
         "`route` shape) were recognised as a workload's redirect and kept."),
    Rule("MHR032", "http01-gateway-no-parent-refs", "error",
         "A `gatewayHTTPRoute` solver gets no parentRefs (none in the solver, no "
         "`acme.cert-manager.io/http01-parentref*` annotations on the Certificate), or only one "
         "of the parentRefName/parentRefKind annotations: cert-manager creates no challenge; "
         "or a parentRef the API server rejects (an empty `name` or `kind`, as empty "
         "http01-parentref annotations give): the solver's HTTPRoute is never created."),
    Rule("MHR033", "http01-gateway-no-listener", "error",
         "The solver HTTPRoute attaches to no listener of its parent: its `sectionName` or "
         "`port` names no listener there (or the parent has none)."),
    Rule("MHR034", "http01-gateway-no-http-listener", "error",
         "The solver HTTPRoute attaches only to listeners that are not plain HTTP on the "
         "challenge port (e.g. `sectionName` names the HTTPS listener, or the HTTP listener is "
         "not on port 80)."),
    Rule("MHR035", "http01-gateway-hostname-mismatch", "error",
         "The solver HTTPRoute attaches to no listener: the listeners' `hostname` does not "
         "cover the name."),
    Rule("MHR036", "http01-gateway-namespace-not-allowed", "error",
         "The solver HTTPRoute attaches to no listener: the listener's "
         "`allowedRoutes.namespaces` (`Same` by default) does not admit the Certificate's "
         "namespace, where cert-manager creates the route."),
    Rule("MHR037", "http01-gateway-kind-not-allowed", "error",
         "The solver HTTPRoute attaches to no listener: the listener's `allowedRoutes.kinds` "
         "or protocol takes no HTTPRoute."),
    Rule("MHR038", "http01-listenerset-not-allowed", "error",
         "The solver HTTPRoute's parent is a ListenerSet that its Gateway does not accept "
         "(`allowedListeners.namespaces`, none by default)."),
    Rule("MHR039", "http01-gateway-listener-isolation", "error",
         "The solver HTTPRoute attaches only to a wildcard listener, and a more specific "
         "listener on the same port owns the name: listener isolation keeps the route from "
         "serving it."),
    Rule("MHR040", "http01-gateway-listener-conflict", "error",
         "The solver HTTPRoute would attach only to a listener that conflicts with an earlier "
         "one of the same Gateway (same port, same hostname or both unset; the Gateway's "
         "listeners first, then its ListenerSets by creation time and name): istiod gives the "
         "conflicting listener no server."),
    Rule("MHR041", "http01-gateway-assumed", "warning",
         "A name solved through Gateway API passes on an assumption: an "
         "`allowedRoutes`/`allowedListeners` namespace selector run against a Namespace that "
         "is not in the input, or the pods of a manually deployed Gateway whose Service is not "
         "in the input (assumed that no classic Gateway with a selector redirects the name "
         "there); add those objects to the input."),
    # --- input and configuration ---
    Rule("MHR100", "invalid-config", "error", "The functionConfig is invalid."),
    Rule("MHR101", "invalid-input", "error",
         "The input is not valid YAML, not a ResourceList, or breaks a documented limit."),
    Rule("MHR102", "write-refused", "error",
         "A file could not be written, or a path would leave the given directories."),
]

RULES: dict[str, Rule] = {rule.id: rule for rule in _RULES}


def rule(rule_id: str) -> Rule:
    return RULES[rule_id]


def rules_table() -> str:
    """Markdown table of all rules (README and ``--help``)."""
    lines = ["| ID | name | severity | meaning |", "| --- | --- | --- | --- |"]
    lines += [f"| {r.id} | {r.name} | {r.severity} | {r.doc} |" for r in _RULES]
    return "\n".join(lines)


def rules_text() -> str:
    """One line per rule for ``--help`` (ID, name, severity): fits 80 columns."""
    return "\n".join(f"  {r.id}  {r.name:<38} {r.severity}" for r in _RULES)
