"""Typed, validated views of Istio Gateways and VirtualServices, and istiod's naming rules.

Views are read from plain values; a field of the wrong type becomes a problem naming its path
(``spec.servers[0].port``), never an exception. Name resolution follows istiod
(``pilot/pkg/model/virtualservice.go`` ``resolveGatewayName``; ``pilot/pkg/model/gateway.go``
for server host forms).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

TYPE_CHECKING = False  # what follows is for annotations only, never needed at run time
if TYPE_CHECKING:
    from typing import Any

ISTIO_GROUP = "networking.istio.io"
ISTIO_VERSIONS = ("v1alpha3", "v1beta1", "v1")
#: ``protocol.Instance.IsHTTP`` (``pkg/config/protocol/instance.go``; ``Parse`` ignores case):
#: istiod merges these into the plaintext route configuration, and ``tls.httpsRedirect`` on any
#: of them marks the server's virtual hosts ``require_tls``.
HTTP_PROTOCOLS = frozenset({"HTTP", "HTTP2", "HTTP_PROXY", "GRPC", "GRPC-WEB"})
MESH = "mesh"


def is_istio(api_version: str, kind: str) -> bool:
    group, _, version = api_version.partition("/")
    return group == ISTIO_GROUP and version in ISTIO_VERSIONS and kind in (
        "Gateway", "VirtualService"
    )


class Server(NamedTuple):
    index: int  # type: ignore[assignment]  # position in spec.servers; tuple.index unused
    port: int
    port_name: str
    protocol: str  # upper-cased
    hosts: tuple[str, ...]
    https_redirect: bool
    bind: str = ""

    @property
    def is_http(self) -> bool:
        return self.protocol in HTTP_PROTOCOLS

    def hostnames(self, gateway_namespace: str) -> tuple[tuple[str, str], ...]:
        """``(namespace filter, hostname)`` per host, normalised as istiod does."""
        return tuple(split_server_host(h, gateway_namespace) for h in self.hosts)


class Gateway(NamedTuple):
    namespace: str
    name: str
    selector: tuple[tuple[str, str], ...] | None  # None: no selector, applies everywhere
    servers: tuple[Server, ...]
    api_version: str


class VirtualService(NamedTuple):
    namespace: str
    name: str
    hosts: tuple[str, ...]
    gateways: tuple[str, ...]  # as written; empty means mesh only


def _type(value: Any) -> str:
    names = {dict: "a map", list: "a list", str: "a string", bool: "a boolean", int: "a number",
             float: "a number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _str_list(value: Any, path: str, problems: list[tuple[str, str]]) -> tuple[str, ...]:
    if not isinstance(value, list):
        problems.append((path, f"must be a list of strings, got {_type(value)}"))
        return ()
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, str):
            problems.append((f"{path}[{i}]", f"must be a string, got {_type(item)}"))
        else:
            out.append(item)
    return tuple(out)


def read_gateway(obj: Mapping[str, Any], namespace: str, name: str
                 ) -> tuple[Gateway | None, list[tuple[str, str]]]:
    """A :class:`Gateway` view, or ``None`` and the problems (field path, what is wrong)."""
    problems: list[tuple[str, str]] = []
    spec = obj.get("spec")
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        return None, [("spec", f"must be a map, got {_type(spec)}")]
    selector: tuple[tuple[str, str], ...] | None = None
    raw_selector = spec.get("selector")
    if raw_selector is not None:
        if not isinstance(raw_selector, dict):
            problems.append(
                ("spec.selector", f"must be a map of labels, got {_type(raw_selector)}")
            )
        else:
            pairs = []
            for key, value in raw_selector.items():
                if not isinstance(key, str) or not isinstance(value, str):
                    problems.append(
                        (f"spec.selector.{key}", f"must be a string label, got {_type(value)}")
                    )
                else:
                    pairs.append((key, value))
            selector = tuple(sorted(pairs)) if pairs else None
    raw_servers = spec.get("servers")
    if raw_servers is None:
        raw_servers = []
    if not isinstance(raw_servers, list):
        problems.append(("spec.servers", f"must be a list of servers, got {_type(raw_servers)}"))
        raw_servers = []
    servers = []
    for i, raw in enumerate(raw_servers):
        server = _read_server(i, raw, problems)
        if server is not None:
            servers.append(server)
    if problems:
        return None, problems
    return Gateway(namespace, name, selector, tuple(servers), str(obj.get("apiVersion"))), []


def _read_server(i: int, raw: Any, problems: list[tuple[str, str]]) -> Server | None:
    path = f"spec.servers[{i}]"
    if not isinstance(raw, dict):
        problems.append((path, f"must be a map, got {_type(raw)}"))
        return None
    before = len(problems)
    port = raw.get("port")
    # Any until checked (compiled by mypyc, a typed variable checks what it is given)
    number: Any = 0
    port_name: Any = ""
    protocol: Any = ""
    if not isinstance(port, dict):
        problems.append((f"{path}.port", f"must be a map with number, name, protocol, got "
                         f"{_type(port)}"))
    else:
        number = port.get("number", 0)
        if isinstance(number, bool) or not isinstance(number, int):
            problems.append((f"{path}.port.number", f"must be an integer, got {_type(number)}"))
        port_name = port.get("name", "")
        if not isinstance(port_name, str):
            problems.append((f"{path}.port.name", f"must be a string, got {_type(port_name)}"))
        protocol = port.get("protocol", "")
        if not isinstance(protocol, str):
            problems.append((f"{path}.port.protocol", f"must be a string, got {_type(protocol)}"))
    hosts = _str_list(raw.get("hosts", []), f"{path}.hosts", problems)
    tls = raw.get("tls")
    redirect = False
    if tls is not None:
        if not isinstance(tls, dict):
            problems.append((f"{path}.tls", f"must be a map, got {_type(tls)}"))
        else:
            flag = tls.get("httpsRedirect", False)
            if flag is None:
                flag = False
            if not isinstance(flag, bool):
                problems.append((f"{path}.tls.httpsRedirect", f"must be true or false, got "
                                 f"{_type(flag)}"))
            redirect = flag is True
    bind = raw.get("bind")
    if bind is not None and not isinstance(bind, str):
        problems.append((f"{path}.bind", f"must be a string, got {_type(bind)}"))
    if len(problems) > before:
        return None
    return Server(i, number, port_name, protocol.upper(), hosts, redirect, bind or "")


def read_virtual_service(obj: Mapping[str, Any], namespace: str, name: str
                         ) -> tuple[VirtualService | None, list[tuple[str, str]]]:
    problems: list[tuple[str, str]] = []
    spec = obj.get("spec")
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        return None, [("spec", f"must be a map, got {_type(spec)}")]
    hosts = _str_list(spec.get("hosts") or [], "spec.hosts", problems)
    gateways = _str_list(spec.get("gateways") or [], "spec.gateways", problems)
    if problems:
        return None, problems
    return VirtualService(namespace, name, hosts, gateways), []


def resolve_gateway_ref(ref: str, vs_namespace: str) -> tuple[str, str] | None:
    """``(namespace, name)`` a VirtualService ``gateways`` entry points at; ``None`` for mesh.

    istiod: ``ns/name`` as is; ``./name`` and ``name`` in the VirtualService's namespace; a
    dotted legacy name ``name.ns[.svc.cluster.local]`` as ``ns/name``.
    """
    if ref == MESH:
        return None
    if "/" in ref:
        ns, _, name = ref.partition("/")
        return (vs_namespace if ns == "." else ns), name
    if "." in ref:
        parts = ref.split(".")
        return parts[1], parts[0]
    return vs_namespace, ref


def split_server_host(host: str, gateway_namespace: str) -> tuple[str, str]:
    """``(namespace filter, hostname)``: ``./h`` is the Gateway's namespace, ``*/h`` and a bare
    ``h`` any namespace (``*``), ``ns/h`` only VirtualServices of ``ns``."""
    if "/" in host:
        ns, _, name = host.partition("/")
        if ns == ".":
            ns = gateway_namespace
        return ns, name.lower()
    return "*", host.lower()


def host_covers(wide: str, narrow: str) -> bool:
    """Whether hostname ``wide`` matches every name ``narrow`` matches (``*.x`` covers ``a.x``
    and ``*.b.x``; ``*`` covers everything; ``*.x`` does not cover ``x``)."""
    wide, narrow = wide.lower(), narrow.lower()
    if wide in (narrow, "*"):
        return True
    if wide.startswith("*."):
        suffix = wide[1:]
        return narrow.endswith(suffix) and len(narrow) > len(suffix)
    return False


def hosts_intersect(a: str, b: str) -> bool:
    return host_covers(a, b) or host_covers(b, a)
