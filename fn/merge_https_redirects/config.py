"""FunctionConfig: defaults, then validation that reports every problem at once.

Accepted forms: no config, a ``ConfigMap`` (``data`` values are strings, as ``kpt fn eval -- k=v``
sends them) and the typed kind ``MergeHttpsRedirects`` (apiVersion :data:`API_VERSION`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

from merge_https_redirects.model import dedicated
from merge_https_redirects.results import ResourceRef, Result
from merge_https_redirects.rules import rule

TYPE_CHECKING = False  # what follows is for annotations only, never needed at run time
if TYPE_CHECKING:
    from typing import Any

    from merge_https_redirects.model.http01 import CheckOptions

API_GROUP = "merge-https-redirects.dev"
API_VERSION = f"{API_GROUP}/v1alpha1"
KIND = "MergeHttpsRedirects"



class _Pattern:
    """A regular expression compiled when first used: most runs have no functionConfig to
    check, and start-up is the floor of every run."""

    __slots__ = ("_compiled", "_source")

    def __init__(self, source: str) -> None:
        self._source = source
        self._compiled: re.Pattern[str] | None = None

    @property
    def pattern(self) -> str:
        """The expression (as ``re.Pattern.pattern``)."""
        return self._source

    def fullmatch(self, value: str) -> re.Match[str] | None:
        if self._compiled is None:
            self._compiled = re.compile(self._source)
        return self._compiled.fullmatch(value)


_DNS_LABEL = _Pattern(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_LABEL_KEY = _Pattern(r"([a-z0-9.-]+/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
_LABEL_VALUE = _Pattern(r"(|[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)")


class FieldDoc(NamedTuple):
    name: str
    type: str
    default: str
    meaning: str
    example: str


#: The FunctionConfig reference (README and ``--help`` are generated from it).
FIELDS: tuple[FieldDoc, ...] = (
    FieldDoc(
        "mode",
        "string: `merge` or `check`",
        "`merge`",
        "`merge` rewrites the Gateways; `check` changes nothing and reports, per DNS name, "
        "whether cert-manager's HTTP-01 challenge would pass.",
        "`check`",
    ),
    FieldDoc(
        "name",
        "string (DNS-1123 label: at most 63 characters, no dots)",
        f"`{dedicated.DEFAULT_NAME}`",
        "Name of a new dedicated redirect Gateway (istiod accepts only DNS-1123 labels). "
        "Further ones get a suffix from their selector's label values, shortened with a hash "
        "to fit 63 characters.",
        "`redirect-to-https`",
    ),
    FieldDoc(
        "namespace",
        "string (DNS-1123 label)",
        f"`{dedicated.DEFAULT_NAMESPACE}`",
        "Namespace of a new dedicated Gateway.",
        "`istio-ingress`",
    ),
    FieldDoc(
        "ports",
        'list of integers 1-65535 (ConfigMap: `"80,8080"`)',
        "`[80]`",
        "Gateway server port numbers whose httpsRedirect servers are merged (the Gateway's "
        "Service port, as written in the Gateway).",
        "`[80, 8080]`",
    ),
    FieldDoc(
        "strategy",
        "string: `auto`, `gateway` or `route`",
        "`auto`",
        "How a gateway workload's redirect is served after the rewrite: `gateway`, one dedicated "
        "`*` redirect Gateway; `route`, a plain Gateway for the redirected hosts and a "
        "VirtualService whose catch-all route redirects to https (the challenge's exact path "
        "sorts first); `auto`, per workload the first shape the routing simulation proves.",
        "`route`",
    ),
    FieldDoc(
        "issuers",
        "list of `{kind, name, namespace, solvers}` (ConfigMap: the list as JSON)",
        "`[]`",
        "Issuers that live outside the bundle, so check mode can judge the Certificates that "
        "use them: `kind` `ClusterIssuer` or `Issuer` (with `namespace`), `name`, and `solvers` "
        "in cert-manager's own shape (`spec.acme.solvers`). An issuer in the bundle wins, with "
        "a warning (`MHR027`).",
        '`[{kind: ClusterIssuer, name: letsencrypt, solvers: [{http01: {ingress: {class: '
        'istio}}}]}]`',
    ),
    FieldDoc(
        "failOnUnknown",
        "boolean",
        "`true`",
        "Whether a name the check cannot judge (issuer missing, solver type not modelled) is an "
        "error (`MHR026`) or a warning.",
        "`false`",
    ),
    FieldDoc(
        "onConflict",
        "string: `error` or `skip`",
        "`error`",
        "What to do with a selector whose plain port-80 servers would capture or expose a "
        "redirected host: `error` fails the run, `skip` leaves that selector's Gateways "
        "unchanged with a warning.",
        "`skip`",
    ),
    FieldDoc(
        "failOn",
        "string: `error` or `warning`",
        "`error`",
        "The least severe finding that fails the run (exit 1), in every mode: `warning` makes a "
        "deleted VirtualService, a kept bind redirect, a skipped conflict... fail a pipeline "
        "whose host hides the function's messages (Helm 4).",
        "`warning`",
    ),
    FieldDoc(
        "strict",
        'boolean (ConfigMap: `"true"`/`"false"`)',
        "`false`",
        "When an Istio resource cannot be read (wrong types, bad YAML inside it), `false` "
        "reports it (error) and still rewrites the rest; `true` changes nothing at all.",
        "`true`",
    ),
    FieldDoc(
        "ingressClass",
        "string",
        "`istio`",
        "check mode: the Ingress class istiod serves (mesh config `ingressClass`).",
        "`istio`",
    ),
    FieldDoc(
        "ingressSelector",
        'map of label to value (ConfigMap: `"istio=ingressgateway"`)',
        "`{istio: ingressgateway}`",
        "check mode: labels of the gateway pods Ingress-derived Gateways select (mesh config "
        "`ingressSelector`).",
        "`{istio: ingress}`",
    ),
    FieldDoc(
        "gatewayLabels",
        'a label map, or a list of them (ConfigMap: `"istio=ingress,app=istio-ingress"`, '
        'sets separated by `;`)',
        "from the input's gateway Deployments/Pods, else an IstioOperator, else assumed",
        "The pod labels of the gateway workloads (one label set per workload), when the input "
        "does not hold their Deployment. Without them, every union of compatible Gateway "
        "selectors is assumed to be a possible pod (the worst case), and the results say so.",
        "`[{istio: ingressgateway, app: istio-ingressgateway}]`",
    ),
)
_FIELD_NAMES = {f.name for f in FIELDS}


class Config(NamedTuple):
    mode: str = "merge"
    name: str = dedicated.DEFAULT_NAME
    namespace: str = dedicated.DEFAULT_NAMESPACE
    ports: tuple[int, ...] = dedicated.DEFAULT_PORTS
    on_conflict: str = "error"
    strategy: str = "auto"
    fail_on: str = "error"
    ingress_class: str = "istio"
    strict: bool = False
    ingress_selector: tuple[tuple[str, str], ...] = tuple(
        sorted(dedicated.DEFAULT_SELECTOR.items()))
    #: one label set per gateway workload
    gateway_labels: tuple[tuple[tuple[str, str], ...], ...] | None = None
    #: issuers outside the bundle, as cert-manager resources (``issuers``)
    issuers: tuple[dict[str, Any], ...] = ()
    fail_on_unknown: bool = True


class _Problems(list[tuple[str | None, str]]):
    """(field, message) pairs; ``prefix`` is ``data.`` for a ConfigMap."""

    prefix = ""

    def add(self, name: str | None, message: str) -> None:
        self.append((name, message))


class ConfigProblems(Exception):
    """Every problem found in a functionConfig, as error results."""

    def __init__(self, results: list[Result]) -> None:
        self.results = results
        super().__init__("; ".join(r.message for r in results))


def _ref(obj: Mapping[str, Any]) -> ResourceRef | None:
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    kind, api = obj.get("kind"), obj.get("apiVersion")
    if isinstance(kind, str) and isinstance(api, str):
        ns = meta.get("namespace", "") if isinstance(meta, dict) else ""
        return ResourceRef(api, kind, name if isinstance(name, str) else "", ns or "")
    return None


def parse_config(obj: Any) -> Config:
    """A :class:`Config` from a functionConfig value; raises :class:`ConfigProblems`."""
    if obj is None:
        return Config()
    problems = _Problems()
    ref = _ref(obj) if isinstance(obj, dict) else None

    def fail() -> ConfigProblems:
        return ConfigProblems(
            [
                Result(
                    rule("MHR100"),
                    message,
                    resource=ref,
                    field_path=(problems.prefix + name) if name else None,
                )
                for name, message in problems
            ]
        )

    if not isinstance(obj, dict):
        problems.add(None, f"functionConfig must be a mapping, got {_type(obj)}")
        raise fail()
    kind, api = obj.get("kind"), obj.get("apiVersion")
    if kind == "ConfigMap" and api == "v1":
        data = obj.get("data")
        if data is None:
            data = {}
        if not isinstance(data, dict):
            problems.add("data", f"ConfigMap `data` must be a map of strings, got {_type(data)}")
            raise fail()
        problems.prefix = "data."
        fields: dict[str, Any] = {}
        for key, value in data.items():
            if not isinstance(value, str):
                problems.add(
                    str(key),
                    f"ConfigMap data.{key} must be a string (ConfigMap values are strings), "
                    f"got {_type(value)}",
                )
                continue
            fields[str(key)] = value
        from_strings = True
    elif kind == KIND and api == API_VERSION:
        fields = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}
        from_strings = False
    else:
        problems.add(
            None,
            f"unknown functionConfig `{kind}.{api}`, expect `ConfigMap.v1` or "
            f"`{KIND}.{API_VERSION}`",
        )
        raise fail()
    values = _validate(fields, from_strings, problems)
    if problems:
        raise fail()
    return Config(**values)


def _type(value: Any) -> str:
    if value is None:
        return "null"
    return {
        dict: "a map",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
    }.get(type(value), type(value).__name__)


def _validate(fields: dict[str, Any], from_strings: bool, problems: _Problems) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in sorted(set(fields) - _FIELD_NAMES):
        problems.add(
            key, f"unknown field `{key}`, expect one of: {', '.join(sorted(_FIELD_NAMES))}"
        )

    def string(
        key: str,
        allowed: tuple[str, ...] | None = None,
        pattern: _Pattern | None = None,
        what: str = "",
        limit: int = 253,
    ) -> None:
        if key not in fields:
            return
        value = fields[key]
        if not isinstance(value, str):
            problems.add(key, f"field `{key}` must be a string, got {_type(value)}")
        elif allowed is not None and value not in allowed:
            problems.add(key, f"field `{key}` must be one of {', '.join(allowed)}, got {value!r}")
        elif pattern is not None and (not pattern.fullmatch(value) or len(value) > limit):
            problems.add(key, f"field `{key}` must be {what}, got {value!r}")
        else:
            out[_attr(key)] = value

    string("mode", ("merge", "check"))
    string(
        "name",
        pattern=_DNS_LABEL,
        what="a DNS-1123 label, as istiod requires of Gateway names (lower case, digits, '-'; "
        "no dots; at most 63 characters)",
        limit=63,
    )
    string(
        "namespace",
        pattern=_DNS_LABEL,
        what="a DNS-1123 label (lower case, digits, '-'; at most 63 characters)",
        limit=63,
    )
    string("onConflict", ("error", "skip"))
    string("strategy", ("auto", "gateway", "route"))
    string("failOn", ("error", "warning"))
    string("ingressClass", pattern=_Pattern(r"\S+"), what="a non-empty string")
    for key, attr in (("strict", "strict"), ("failOnUnknown", "fail_on_unknown")):
        if key not in fields:
            continue
        flag = fields[key]
        if from_strings and isinstance(flag, str) and flag.lower() in ("true", "false"):
            out[attr] = flag.lower() == "true"
        elif isinstance(flag, bool):
            out[attr] = flag
        else:
            problems.add(key, f"field `{key}` must be true or false, got {flag!r}")
    if "issuers" in fields:
        issuers = _issuers(fields["issuers"], from_strings, problems)
        if issuers is not None:
            out["issuers"] = issuers
    if "ports" in fields:
        ports = _ports(fields["ports"], from_strings, problems)
        if ports is not None:
            out["ports"] = ports
    if "ingressSelector" in fields:
        labels = _labels("ingressSelector", fields["ingressSelector"], from_strings, problems)
        if labels is not None:
            out["ingress_selector"] = labels
    if "gatewayLabels" in fields:
        label_sets = _label_sets("gatewayLabels", fields["gatewayLabels"], from_strings,
                                 problems)
        if label_sets is not None:
            out["gateway_labels"] = label_sets
    return out


def _issuers(value: Any, from_strings: bool, problems: _Problems
             ) -> tuple[dict[str, Any], ...] | None:
    """``issuers``: each entry as the cert-manager resource it describes (every problem
    reported with its index)."""
    if from_strings and isinstance(value, str):
        import json  # rare: not worth its start-up time

        try:
            value = json.loads(value)
        except ValueError as exc:
            problems.add("issuers", f"field `issuers` must be a JSON list in a ConfigMap: {exc}")
            return None
    if not isinstance(value, list):
        problems.add("issuers", f"field `issuers` must be a list, got {_type(value)}")
        return None
    out = []
    for i, entry in enumerate(value):
        where = f"issuers[{i}]"
        if not isinstance(entry, dict):
            problems.add(where, f"field `{where}` must be a map, got {_type(entry)}")
            continue
        unknown = sorted(set(entry) - {"kind", "name", "namespace", "solvers"})
        kind, name = entry.get("kind"), entry.get("name")
        namespace, solvers = entry.get("namespace"), entry.get("solvers", [])
        bad = [f"unknown key `{k}`" for k in unknown]
        if kind not in ("ClusterIssuer", "Issuer"):
            bad.append(f"`kind` must be ClusterIssuer or Issuer, got {kind!r}")
        if not isinstance(name, str) or not name:
            bad.append(f"`name` must be a non-empty string, got {_type(name)}")
        if kind == "Issuer" and (not isinstance(namespace, str) or not namespace):
            bad.append("`namespace` is required for an Issuer")
        if kind == "ClusterIssuer" and "namespace" in entry:
            bad.append("a ClusterIssuer has no `namespace`")
        if not isinstance(solvers, list) or not all(isinstance(s, dict) for s in solvers):
            bad.append("`solvers` must be a list of maps (cert-manager's spec.acme.solvers)")
        if bad:
            problems.add(where, f"field `{where}`: {'; '.join(bad)}")
            continue
        meta = {"name": name, **({"namespace": namespace} if kind == "Issuer" else {})}
        out.append({"apiVersion": "cert-manager.io/v1", "kind": kind, "metadata": meta,
                    "spec": {"acme": {"server": "(issuers setting)",
                                      "privateKeySecretRef": {"name": name},
                                      "solvers": solvers}}})
    return tuple(out)


def _label_sets(
    name: str, value: Any, from_strings: bool, problems: _Problems
) -> tuple[tuple[tuple[str, str], ...], ...] | None:
    """``gatewayLabels``: one label map, or a list of them (``;`` between sets in a
    ConfigMap)."""
    if from_strings and isinstance(value, str):
        parts: list[Any] = [p for p in value.split(";") if p.strip()] or [value]
    elif isinstance(value, list):
        parts = value
    else:
        parts = [value]
    if not parts:
        problems.add(name, f"field `{name}` must list at least one label set")
        return None
    out = []
    for i, part in enumerate(parts):
        where = name if len(parts) == 1 and not isinstance(value, list) else f"{name}[{i}]"
        labels = _labels(where, part, from_strings, problems)
        if labels is None:
            return None
        if labels not in out:
            out.append(labels)
    return tuple(out)


def _attr(key: str) -> str:
    return {"onConflict": "on_conflict", "ingressClass": "ingress_class",
            "failOn": "fail_on", "failOnUnknown": "fail_on_unknown"}.get(key, key)


def _ports(value: Any, from_strings: bool, problems: _Problems) -> tuple[int, ...] | None:
    items: list[Any]
    if from_strings and isinstance(value, str):
        items = [p for p in re.split(r"[\s,]+", value.strip().strip("[]")) if p]
        parsed: list[Any] = []
        for p in items:
            parsed.append(int(p) if p.isdigit() else p)
        items = parsed
    elif isinstance(value, list):
        items = value
    elif isinstance(value, int) and not isinstance(value, bool):
        items = [value]
    else:
        problems.add("ports", f"field `ports` must be a list of port numbers, got {_type(value)}")
        return None
    ok = True
    for p in items:
        if isinstance(p, bool) or not isinstance(p, int) or not 1 <= p <= 65535:
            problems.add(
                "ports", f"field `ports` entries must be integers from 1 to 65535, got {p!r}"
            )
            ok = False
    if ok and not items:
        problems.add("ports", "field `ports` must name at least one port")
        ok = False
    if ok and len(set(items)) != len(items):
        problems.add("ports", f"field `ports` lists a port twice: {items}")
        ok = False
    return tuple(sorted(items)) if ok else None


def _labels(
    name: str, value: Any, from_strings: bool, problems: _Problems
) -> tuple[tuple[str, str], ...] | None:
    """A label map field (``ingressSelector``, ``gatewayLabels``); ``k=v,k2=v2`` in a
    ConfigMap."""
    pairs: dict[str, Any]
    if from_strings and isinstance(value, str):
        pairs = {}
        for part in (p for p in re.split(r"[\s,]+", value.strip()) if p):
            key, sep, val = part.partition("=")
            if not sep:
                problems.add(name, f"field `{name}` entries must be key=value, got {part!r}")
                return None
            pairs[key] = val
    elif isinstance(value, dict):
        pairs = value
    else:
        problems.add(name, f"field `{name}` must be a map of labels, got {_type(value)}")
        return None
    ok = True
    for key, val in pairs.items():
        if not isinstance(key, str) or not _LABEL_KEY.fullmatch(key):
            problems.add(name, f"field `{name}` has an invalid label key {key!r}")
            ok = False
        elif not isinstance(val, str) or not _LABEL_VALUE.fullmatch(val):
            problems.add(name, f"field `{name}.{key}` must be a label value, got {val!r}")
            ok = False
    if ok and not pairs:
        problems.add(name, f"field `{name}` must have at least one label")
        ok = False
    return tuple(sorted(pairs.items())) if ok else None


def reference_markdown() -> str:
    """The FunctionConfig table for README and ``--help``."""
    lines = ["| field | type | default | meaning | example |", "| --- | --- | --- | --- | --- |"]
    lines += [
        f"| `{f.name}` | {f.type} | {f.default} | {f.meaning} | {f.example} |" for f in FIELDS
    ]
    return "\n".join(lines)


def reference_text(width: int = 80) -> str:
    """The FunctionConfig fields for ``--help``: plain text, at most ``width`` columns."""
    import textwrap

    lines: list[str] = []
    for f in FIELDS:
        for text, indent in ((f"{f.name} (default {_plain(f.default)})", "  "),
                             (f"type: {_plain(f.type)}", "      "),
                             (_plain(f.meaning), "      ")):
            lines += textwrap.wrap(text, width, initial_indent=indent,
                                   subsequent_indent=indent + "  " * (indent == "  "),
                                   break_on_hyphens=False)
    return "\n".join(lines)


def _plain(markdown: str) -> str:
    return markdown.replace("`", "")


def check_options(config: Config) -> CheckOptions:
    """The HTTP-01 check's view of a functionConfig."""
    from merge_https_redirects.model.http01 import CheckOptions

    return CheckOptions(
        ingress_selector=dict(config.ingress_selector),
        ingress_class=config.ingress_class,
        workload_labels=config.gateway_labels,
        issuers=config.issuers,
    )
