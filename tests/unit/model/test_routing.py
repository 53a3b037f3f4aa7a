"""The routing model against istiod's documented behaviour (gateway.go, gateway_simulation_test.go,
model/gateway.go, config/kube/ingress)."""

from __future__ import annotations

from typing import Any

import pytest

from merge_https_redirects.model.host import (
    intersection,
    names_for_namespace,
    resolve_gateway_name,
    sanitize_server_hosts,
)
from merge_https_redirects.model.ingress import IngressOptions
from merge_https_redirects.model.routing import build_route_config

INGRESS_GW = {"istio": "ingressgateway"}
SOLVER_PATH = "/.well-known/acme-challenge/tok"


def gateway(name: str, *servers: dict[str, Any], ns: str = "istio-system",
            selector: dict[str, str] | None = None, created: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": ns}
    if created:
        meta["creationTimestamp"] = created
    return {"apiVersion": "networking.istio.io/v1beta1", "kind": "Gateway", "metadata": meta,
            "spec": {"selector": INGRESS_GW if selector is None else selector,
                     "servers": list(servers)}}


def http(*hosts: str, redirect: bool = False, port: int = 80,
         protocol: str = "HTTP") -> dict[str, Any]:
    server: dict[str, Any] = {"port": {"number": port, "name": f"http-{port}",
                                       "protocol": protocol}, "hosts": list(hosts)}
    if redirect:
        server["tls"] = {"httpsRedirect": True}
    return server


def vs(name: str, hosts: list[str], gateways: list[str], *routes: dict[str, Any],
       ns: str = "istio-system", created: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": ns}
    if created:
        meta["creationTimestamp"] = created
    return {"apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService",
            "metadata": meta,
            "spec": {"hosts": hosts, "gateways": gateways,
                     "http": list(routes) or [route("web")]}}


def route(dest: str, match: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"route": [{"destination": {"host": dest, "port": {"number": 80}}}]}
    if match is not None:
        out["match"] = [match]
    return out


def solver_ingress(host: str, ns: str = "shop", **spec_extra: Any) -> dict[str, Any]:
    ann = {} if "ingressClassName" in spec_extra or spec_extra.pop("no_class", False) else {
        "kubernetes.io/ingress.class": "istio"}
    return {
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "cm-acme-http-solver-x", "namespace": ns, "annotations": ann},
        "spec": {**spec_extra, "rules": [{"host": host, "http": {"paths": [{
            "path": SOLVER_PATH, "pathType": "ImplementationSpecific",
            "backend": {"service": {"name": "cm-acme-http-solver-x",
                                    "port": {"number": 8089}}}}]}}]},
    }


SOLVER_DEST = "cm-acme-http-solver-x.shop.svc.cluster.local:8089"


# --- sticky require_tls (gateway_simulation_test.go "mixed httpsRedirect with routes") ---------


@pytest.mark.parametrize("redirect_first", [True, False])
def test_require_tls_is_sticky_in_either_order(redirect_first: bool) -> None:
    early, late = "2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z"
    bundle = [
        gateway("redirect", http("example.com", redirect=True),
                created=early if redirect_first else late),
        gateway("plain", http("example.com"), created=late if redirect_first else early),
        vs("vs", ["example.com"], ["redirect", "plain"]),
    ]
    config = build_route_config(bundle, INGRESS_GW)
    answer = config.answer("example.com", "/")
    assert answer.kind == "redirect"
    assert "Gateway istio-system/redirect spec.servers[0]" in answer.cause
    vhost = config.virtual_host_for("example.com")
    assert vhost is not None
    assert vhost.require_tls
    # routes of both servers were merged into the one virtual host before being redirected
    assert len(vhost.routes) == 2


@pytest.mark.parametrize("redirect_first", [True, False])
def test_require_tls_through_a_wildcard_redirect_server_is_sticky(redirect_first: bool) -> None:
    """Only the VirtualService loop can mark ``a.example.com`` here (the redirect loop marks
    ``*.example.com``), so this isolates gateway.go's per-server ``RequireTls`` assignment."""
    early, late = "2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z"
    bundle = [
        gateway("redirect", http("*.example.com", redirect=True),
                created=early if redirect_first else late),
        gateway("plain", http("a.example.com"), created=late if redirect_first else early),
        vs("vs", ["a.example.com"], ["redirect", "plain"]),
    ]
    config = build_route_config(bundle, INGRESS_GW)
    vhost = config.virtual_host_for("a.example.com")
    assert vhost is not None
    assert vhost.domain == "a.example.com"
    assert vhost.require_tls
    assert vhost.redirect_causes == (
        "Gateway istio-system/redirect spec.servers[0] has httpsRedirect and serves "
        "VirtualService istio-system/vs for a.example.com",)


def test_istio_simulation_mixed_redirect_with_routes() -> None:
    """The exact configuration of Istio's own simulation test: a VirtualService bound only to the
    redirect Gateway, plus a plain Gateway for the same host -> ErrTLSRedirect."""
    bundle = [gateway("gateway", http("example.com", redirect=True), ns="default"),
              gateway("gateway2", http("example.com"), ns="default"),
              vs("vs", ["example.com"], ["gateway"], route("b", {"uri": {"prefix": "/"}}),
                 ns="default")]
    assert build_route_config(bundle, INGRESS_GW).answer("example.com").kind == "redirect"


def test_solver_redirected_when_redirect_server_names_the_host() -> None:
    bundle = [gateway("gw", http("shop.example.com", redirect=True)),
              solver_ingress("shop.example.com")]
    answer = build_route_config(bundle, INGRESS_GW).answer("shop.example.com", SOLVER_PATH)
    assert answer.kind == "redirect"
    assert "Gateway istio-system/gw spec.servers[0] has httpsRedirect" in answer.cause


# --- redirect-only virtual host ----------------------------------------------------------------


def test_catch_all_redirect_server_yields_route_less_star_vhost() -> None:
    bundle = [gateway("dedicated", http("*", redirect=True)), solver_ingress("shop.example.com")]
    config = build_route_config(bundle, INGRESS_GW)
    star = config.virtual_host_for("anything.example.org")
    assert star is not None
    assert star.domain == "*"
    assert star.require_tls
    assert star.routes == ()
    assert config.answer("other.example.com").kind == "redirect"
    solver = config.answer("shop.example.com", SOLVER_PATH)
    assert (solver.kind, solver.destination) == ("route", SOLVER_DEST)
    # during the challenge window, other paths of the name answer 404 instead of redirecting
    assert config.answer("shop.example.com", "/").kind == "404"


def test_no_virtual_service_gives_blackhole() -> None:
    config = build_route_config([gateway("gw", http("foo.bar"))], INGRESS_GW)
    answer = config.answer("foo.bar")
    assert answer.kind == "404"
    assert "blackhole" in answer.cause


def test_no_listener_when_no_gateway_applies() -> None:
    config = build_route_config([gateway("gw", http("foo.bar"))], {"istio": "ingress"})
    answer = config.answer("foo.bar")
    assert answer.kind == "404"
    assert "no Gateway selects" in answer.cause


# --- host forms and namespace filter -----------------------------------------------------------


def test_sanitize_server_hosts() -> None:
    assert sanitize_server_hosts(["./a.com", "*/b.com", "ns/c.com", "d.com"], "gwns") == (
        "gwns/a.com", "b.com", "ns/c.com", "d.com")
    assert sanitize_server_hosts(["a.com", "*/*", "b.com"], "gwns") == ("*",)


def test_names_for_namespace() -> None:
    assert names_for_namespace(["ns1/foo.com", "ns2/bar.com"], "ns1") == ["foo.com"]
    assert names_for_namespace(["ns1/foo.com", "*/bar.com"], "ns3") == ["bar.com"]
    assert names_for_namespace(["foo.com", "ns2/bar.com"], "ns2") == ["foo.com", "bar.com"]


def test_namespace_filtered_server_host_binds_only_that_namespace() -> None:
    bundle = [gateway("gw", http("shop/a.example.com")),
              vs("shop-vs", ["a.example.com"], ["istio-system/gw"], route("shop-web"), ns="shop"),
              vs("other-vs", ["a.example.com"], ["istio-system/gw"], route("evil"), ns="other")]
    answer = build_route_config(bundle, INGRESS_GW).answer("a.example.com")
    assert (answer.kind, answer.destination) == ("route", "shop-web:80")


def test_namespaced_redirect_host_becomes_a_domain_that_never_matches() -> None:
    """gateway.go's redirect loop uses the raw ``ns/h`` host as the domain (upstream quirk)."""
    config = build_route_config([gateway("gw", http("shop/a.example.com", redirect=True))],
                                INGRESS_GW)
    assert [v.domain for v in config.virtual_hosts] == ["shop/a.example.com"]
    assert config.answer("a.example.com").kind == "404"


def test_dot_slash_host_means_gateway_namespace() -> None:
    bundle = [gateway("gw", http("./a.example.com"), ns="shop"),
              vs("vs", ["a.example.com"], ["gw"], route("web"), ns="shop")]
    assert build_route_config(bundle, INGRESS_GW).answer("a.example.com").kind == "route"


# --- wildcard intersection ---------------------------------------------------------------------


def test_intersection_keeps_more_specific_side() -> None:
    assert intersection(["*.example.com"], ["a.example.com", "b.other.org"]) == ["a.example.com"]
    assert intersection(["a.example.com"], ["*"]) == ["a.example.com"]
    assert intersection(["*.example.com"], ["example.com"]) == []
    assert intersection(["*"], ["*.example.com"]) == ["*.example.com"]


def test_wildcard_server_and_exact_vs_make_exact_vhost() -> None:
    bundle = [gateway("gw", http("*.example.com", redirect=True)),
              vs("vs", ["a.example.com"], ["gw"]), solver_ingress("b.example.com")]
    config = build_route_config(bundle, INGRESS_GW)
    assert sorted(v.domain for v in config.virtual_hosts) == [
        "*.example.com", "a.example.com", "b.example.com"]
    assert config.answer("a.example.com").kind == "redirect"
    assert config.answer("b.example.com", SOLVER_PATH).kind == "route"  # exact beats *.x
    assert config.answer("c.example.com").kind == "redirect"


def test_vs_with_star_host_on_redirect_gateway_captures_the_solver_host() -> None:
    bundle = [gateway("gw", http("*", redirect=True)), vs("vs", ["*"], ["gw"]),
              solver_ingress("shop.example.com")]
    config = build_route_config(bundle, INGRESS_GW)
    assert config.answer("shop.example.com", SOLVER_PATH).kind == "route"
    bundle[1] = vs("vs", ["shop.example.com"], ["gw"])
    answer = build_route_config(bundle, INGRESS_GW).answer("shop.example.com", SOLVER_PATH)
    assert answer.kind == "redirect"
    assert "serves VirtualService istio-system/vs" in answer.cause


def test_envoy_picks_exact_then_longest_suffix_then_star() -> None:
    bundle = [gateway("gw", http("*")),
              vs("star", ["*"], ["gw"], route("star")),
              vs("wide", ["*.example.com"], ["gw"], route("wide")),
              vs("narrow", ["*.a.example.com"], ["gw"], route("narrow")),
              vs("exact", ["x.a.example.com"], ["gw"], route("exact"))]
    config = build_route_config(bundle, INGRESS_GW)
    assert config.answer("x.a.example.com").destination == "exact:80"
    assert config.answer("y.a.example.com:80").destination == "narrow:80"
    assert config.answer("Y.EXAMPLE.COM").destination == "wide:80"
    assert config.answer("example.org").destination == "star:80"


# --- routes ------------------------------------------------------------------------------------


def test_catch_all_routes_move_last_across_virtual_services() -> None:
    bundle = [gateway("gw", http("shop.example.com")),
              vs("app", ["shop.example.com"], ["gw"], route("web", {"uri": {"prefix": "/"}}),
                 created="2024-01-01T00:00:00Z"),
              solver_ingress("shop.example.com")]
    config = build_route_config(bundle, INGRESS_GW)
    vhost = config.virtual_host_for("shop.example.com")
    assert vhost is not None
    assert vhost.routes[-1].catch_all
    assert config.answer("shop.example.com", SOLVER_PATH).destination == SOLVER_DEST
    assert config.answer("shop.example.com", "/").destination == "web:80"


def test_catch_all_of_earlier_vs_does_not_hide_later_specific_route() -> None:
    bundle = [gateway("gw", http("a.com")),
              vs("first", ["a.com"], ["gw"], route("web", {"uri": {"prefix": "/"}}),
                 created="2024-01-01T00:00:00Z"),
              vs("second", ["a.com"], ["gw"], route("api", {"uri": {"prefix": "/api"}}),
                 created="2024-02-01T00:00:00Z")]
    config = build_route_config(bundle, INGRESS_GW)
    assert config.answer("a.com", "/api/x").destination == "api:80"
    assert config.answer("a.com", "/").destination == "web:80"


def test_vs_stops_after_its_first_catch_all() -> None:
    bundle = [gateway("gw", http("a.com")),
              vs("v", ["a.com"], ["gw"], route("web"), route("api", {"uri": {"prefix": "/api"}}))]
    vhost = build_route_config(bundle, INGRESS_GW).virtual_host_for("a.com")
    assert vhost is not None
    assert [r.destination for r in vhost.routes] == ["web:80"]


def test_match_port_drops_routes_for_other_ports() -> None:
    bundle = [gateway("gw", http("a.com")),
              vs("v", ["a.com"], ["gw"], route("tls-only", {"port": 443}))]
    config = build_route_config(bundle, INGRESS_GW)
    assert config.answer("a.com").kind == "404"
    assert "blackhole" in config.answer("a.com").cause  # the VS contributed nothing


def test_match_gateways_and_headers() -> None:
    bundle = [gateway("gw", http("a.com")),
              vs("v", ["a.com"], ["gw"],
                 route("other-gw", {"gateways": ["elsewhere"], "uri": {"prefix": "/x"}}),
                 route("needs-header", {"headers": {"x-user": {"exact": "me"}}}),
                 route("get-only", {"method": {"exact": "GET"}, "uri": {"prefix": "/"}}))]
    answer = build_route_config(bundle, INGRESS_GW).answer("a.com", "/x")
    assert answer.destination == "get-only:80"


def test_vs_redirect_route_answers_redirect() -> None:
    bundle = [gateway("gw", http("a.com")),
              vs("v", ["a.com"], ["gw"], {"redirect": {"scheme": "https"}})]
    answer = build_route_config(bundle, INGRESS_GW).answer("a.com", SOLVER_PATH)
    assert answer.kind == "redirect"
    assert "VirtualService istio-system/v" in answer.cause


# --- merging servers (model/gateway.go) --------------------------------------------------------


def test_duplicate_host_on_second_tls_block_server_is_skipped() -> None:
    bundle = [gateway("a", http("*", redirect=True), created="2024-01-01T00:00:00Z"),
              gateway("b", http("*", redirect=True), created="2024-02-01T00:00:00Z")]
    config = build_route_config(bundle, INGRESS_GW)
    assert [s.gateway for s in config.servers] == ["istio-system/a"]
    assert any("istio-system/b" in n and "skipped" in n for n in config.notes)


def test_plain_tcp_server_first_drops_later_http_server() -> None:
    bundle = [gateway("a", http("foo.bar", protocol="TCP"), created="2024-01-01T00:00:00Z"),
              gateway("b", http("foo.bar"), created="2024-02-01T00:00:00Z"),
              vs("v", ["foo.bar"], ["b"])]
    config = build_route_config(bundle, INGRESS_GW)
    assert config.servers == ()
    assert config.answer("foo.bar").kind == "404"


def test_http2_and_http_servers_merge() -> None:
    bundle = [gateway("a", http("a.com", protocol="HTTP2", redirect=True)),
              gateway("b", http("b.com")), vs("v", ["b.com"], ["b"])]
    config = build_route_config(bundle, INGRESS_GW)
    assert config.answer("a.com").kind == "redirect"
    assert config.answer("b.com").kind == "route"


# --- Ingress-derived Gateways (config/kube/ingress) --------------------------------------------


def test_ingress_derived_gateways_come_first_and_use_ingress_selector() -> None:
    bundle = [gateway("user", http("a.com"), created="2020-01-01T00:00:00Z"),
              solver_ingress("a.com")]
    config = build_route_config(bundle, INGRESS_GW)
    assert config.gateways == (
        "istio-system/cm-acme-http-solver-x-istio-autogenerated-k8s-ingress-shop",
        "istio-system/user")
    # a Helm gateway labelled istio=ingress is not selected by the Ingress-derived Gateway
    helm = build_route_config(bundle, {"istio": "ingress", "app": "istio-ingress"})
    assert helm.answer("a.com", SOLVER_PATH).kind == "404"
    custom = build_route_config(bundle, {"istio": "ingress"},
                                ingress=IngressOptions({"istio": "ingress"}))
    assert custom.answer("a.com", SOLVER_PATH).destination == SOLVER_DEST


@pytest.mark.parametrize(("extra", "classes", "served"), [
    ({}, [], True),  # kubernetes.io/ingress.class: istio
    ({"ingressClassName": "istio"}, [], True),  # no IngressClass in the bundle
    ({"ingressClassName": "istio"}, [("istio", "istio.io/ingress-controller")], True),
    ({"ingressClassName": "istio"}, [("istio", "k8s.io/ingress-nginx")], False),
    ({"ingressClassName": "nginx"}, [], False),
    ({"no_class": True}, [], False),  # STRICT mode: no class, not Istio's
])
def test_ingress_class_selection(extra: dict[str, Any], classes: list[tuple[str, str]],
                                 served: bool) -> None:
    bundle: list[Any] = [solver_ingress("a.com", **extra)]
    bundle += [{"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
                "metadata": {"name": n}, "spec": {"controller": c}} for n, c in classes]
    answer = build_route_config(bundle, INGRESS_GW).answer("a.com", SOLVER_PATH)
    assert (answer.kind == "route") is served


def test_ingress_rules_for_one_host_merge_and_sort_longest_first() -> None:
    app = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
           "metadata": {"name": "app", "namespace": "shop",
                        "annotations": {"kubernetes.io/ingress.class": "istio"}},
           "spec": {"rules": [{"host": "a.com", "http": {"paths": [
               {"path": "/", "pathType": "Prefix",
                "backend": {"service": {"name": "web", "port": {"number": 80}}}},
               {"path": "/.well-known", "pathType": "Prefix",
                "backend": {"service": {"name": "wk", "port": {"number": 80}}}}]}}]}}
    config = build_route_config([app, solver_ingress("a.com")], INGRESS_GW)
    assert config.answer("a.com", SOLVER_PATH).destination == SOLVER_DEST
    assert config.answer("a.com", "/.well-known/x").destination == "wk.shop.svc.cluster.local:80"
    assert config.answer("a.com", "/.well-knownx").destination == "web.shop.svc.cluster.local:80"


def test_resolve_gateway_name() -> None:
    assert resolve_gateway_name("gw", "shop") == "shop/gw"
    assert resolve_gateway_name("./gw", "shop") == "shop/gw"
    assert resolve_gateway_name("istio-system/gw", "shop") == "istio-system/gw"
    assert resolve_gateway_name("gw.istio-system.svc.cluster.local", "shop") == "istio-system/gw"


@pytest.mark.parametrize("junk", [
    None, 3, "text", [], {"kind": "Gateway"},
    {"apiVersion": "networking.istio.io/v1", "kind": "Gateway", "metadata": {"name": "g"},
     "spec": {"servers": [None, {"port": "80"}, {"port": {"number": "80"}, "hosts": "a"},
                          {"port": {"number": 80, "protocol": 7}, "hosts": [1, "a.com"],
                           "tls": "yes"}], "selector": ["x"]}},
    {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": {"name": "v"},
     "spec": {"hosts": "a.com", "gateways": [None, "g"], "http": [None, {"match": "x"},
                                                                   {"match": [3], "route": 4}]}},
    {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "i"},
     "spec": {"ingressClassName": "istio", "rules": [None, {"http": {"paths": [None, {}]}}],
              "tls": [None, {"secretName": "s"}]}},
])
def test_malformed_input_never_crashes(junk: Any) -> None:
    config = build_route_config([junk, gateway("gw", http("a.com"))], INGRESS_GW)
    assert config.answer("a.com").kind in ("404", "route", "redirect")


# --- pseudo-header matches and withoutHeaders (route.go translateRouteMatch) ----------------


def test_a_path_pseudo_header_match_is_evaluated_on_the_request_path() -> None:
    """istio#27643: users carve the challenge path out of a redirect route with ``:path``."""
    bundle = [gateway("gw", http("a.com")),
              vs("v", ["a.com"], ["gw"],
                 route("solver", {"headers": {":path": {"prefix": "/.well-known/"}}}),
                 {"redirect": {"scheme": "https"}})]
    config = build_route_config(bundle, INGRESS_GW)
    assert config.answer("a.com", SOLVER_PATH).destination == "solver:80"
    assert config.answer("a.com", "/shop").kind == "redirect"


def test_without_headers_on_path_carves_out_the_challenge() -> None:
    bundle = [gateway("gw", http("a.com")),
              vs("v", ["a.com"], ["gw"],
                 {"match": [{"withoutHeaders": {":path": {"prefix": "/.well-known/acme"}}}],
                  "redirect": {"scheme": "https"}},
                 route("app"))]
    config = build_route_config(bundle, INGRESS_GW)
    assert config.answer("a.com", "/").kind == "redirect"
    assert config.answer("a.com", SOLVER_PATH).destination == "app:80"


@pytest.mark.parametrize(("match", "absent_matches"), [
    ({"exact": "x"}, True),   # treat_missing_header_as_empty: "" is not "x", inverted: match
    ({"regex": ".*"}, False),  # "" matches ".*", inverted: no match
    ({}, True),               # present match, inverted: "header absent" matches
])
def test_without_headers_on_an_absent_header(match: dict[str, str], absent_matches: bool) -> None:
    """Envoy ``HeaderUtility::matchHeaders`` with istiod's ``TreatMissingHeaderAsEmpty``."""
    bundle = [gateway("gw", http("a.com")),
              vs("v", ["a.com"], ["gw"], route("carved", {"withoutHeaders": {"x-user": match}}),
                 route("rest"))]
    answer = build_route_config(bundle, INGRESS_GW).answer("a.com", "/")
    assert answer.destination == ("carved:80" if absent_matches else "rest:80")


def test_a_header_match_route_is_not_a_catch_all() -> None:
    """``IsCatchAllRoute``: any header matcher keeps a route in place (SortVHostRoutes moves
    only catch-alls to the end)."""
    bundle = [gateway("gw", http("a.com")),
              vs("v", ["a.com"], ["gw"],
                 route("first", {"headers": {":scheme": {"exact": "http"}}})),
              vs("w", ["a.com"], ["gw"], route("second", {"uri": {"prefix": "/"}}))]
    vhost = build_route_config(bundle, INGRESS_GW).virtual_host_for("a.com")
    assert vhost is not None
    assert [r.destination for r in vhost.routes] == ["first:80", "second:80"]
    assert not vhost.routes[0].catch_all


def test_equal_redirects_compare_equal() -> None:
    """``require_tls`` and a ``{scheme: https}`` redirect route answer the same 301."""
    redirect_route = [gateway("gw", http("a.com")),
                      vs("v", ["a.com"], ["gw"], {"redirect": {"scheme": "https"}})]
    require_tls = [gateway("gw", http("a.com", redirect=True))]
    a = build_route_config(redirect_route, INGRESS_GW).answer("a.com")
    b = build_route_config(require_tls, INGRESS_GW).answer("a.com")
    assert (a.kind, a.destination) == (b.kind, b.destination) == (
        "redirect", "https://{host}{path} 301")
    other = [gateway("gw", http("a.com")),
             vs("v", ["a.com"], ["gw"], {"redirect": {"scheme": "https", "redirectCode": 308}})]
    assert build_route_config(other, INGRESS_GW).answer("a.com").destination != b.destination


# --- protocols, bind, port translation (model/gateway.go) ---------------------------------------


@pytest.mark.parametrize("protocol", ["grpc", "GRPC-Web", "http_proxy", "Http2"])
def test_every_http_protocol_in_any_case_redirects(protocol: str) -> None:
    bundle = [gateway("gw", http("a.com", redirect=True, protocol=protocol))]
    assert build_route_config(bundle, INGRESS_GW).answer("a.com").kind == "redirect"


def test_a_bind_server_has_a_listener_of_its_own() -> None:
    bind = http("*")
    bind["bind"] = "10.0.0.5"
    bundle = [gateway("status", bind), vs("v", ["*"], ["status"]),
              gateway("gw", http("*", redirect=True))]
    answer = build_route_config(bundle, INGRESS_GW).answer("a.com")
    assert answer.kind == "redirect"  # the pod's default listener: only the redirect server
    assert "bind 10.0.0.5" in " ".join(build_route_config(bundle, INGRESS_GW).notes)


def test_written_ports_that_resolve_to_one_target_share_a_route_configuration() -> None:
    """``resolvePorts``: Service port 80 -> targetPort 8080; a server written on 8080 stays
    8080. Both land in ``http.8080``."""
    bundle = [gateway("redirect", http("a.com", redirect=True, port=80)),
              gateway("plain", http("*", port=8080)), vs("v", ["*"], ["plain"])]
    merged = build_route_config(bundle, INGRESS_GW, 8080, port_map={80: 8080})
    assert merged.name == "http.8080"
    assert merged.answer("a.com").kind == "redirect"
    assert merged.answer("b.com").destination == "web:80"
    untranslated = build_route_config(bundle, INGRESS_GW, 80)
    assert untranslated.answer("b.com").kind == "404"


def test_match_port_is_compared_with_the_written_port() -> None:
    bundle = [gateway("gw", http("a.com", port=80)),
              vs("v", ["a.com"], ["gw"], route("on-80", {"port": 80}), route("rest"))]
    answer = build_route_config(bundle, INGRESS_GW, 8080, port_map={80: 8080}).answer("a.com")
    assert answer.destination == "on-80:80"


def test_a_redirect_cause_names_each_server_once() -> None:
    """Two VirtualServices served by one redirect server: the server is named once, with
    both (issue 16: "causes name each contributing server once")."""
    from merge_https_redirects.model.routing import build_route_config

    gateway = {"apiVersion": "networking.istio.io/v1beta1", "kind": "Gateway",
               "metadata": {"name": "shop", "namespace": "shop"},
               "spec": {"selector": {"istio": "ingressgateway"}, "servers": [
                   {"port": {"number": 80, "name": "http", "protocol": "HTTP"},
                    "hosts": ["shop.example.com"], "tls": {"httpsRedirect": True}}]}}

    def vs(name: str, prefix: str) -> dict[str, object]:
        return {"apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService",
                "metadata": {"name": name, "namespace": "shop"},
                "spec": {"hosts": ["shop.example.com"], "gateways": ["shop"],
                         "http": [{"match": [{"uri": {"prefix": prefix}}],
                                   "route": [{"destination": {"host": name}}]}]}}

    config = build_route_config([gateway, vs("a", "/a"), vs("b", "/b")],
                                {"istio": "ingressgateway"})
    cause = config.answer("shop.example.com", "/").cause
    assert cause.count("Gateway shop/shop spec.servers[0]") == 1, cause
    assert "VirtualService shop/a" in cause
    assert "VirtualService shop/b" in cause
