"""Which resources are Istio gateway workloads, and their pod labels.

The HTTP-01 checker asks the routing model on each gateway workload of the bundle; the scan
keeps the values of these resources only (a bundle's thousands of application Deployments
and Services are never built). One definition serves both.
"""

from __future__ import annotations

from merge_https_redirects.values import as_dict, as_str_map

TYPE_CHECKING = False  # what follows is for annotations only, never needed at run time
if TYPE_CHECKING:
    from typing import Any, Literal

    Source = Literal["pods", "service"]

#: Controllers whose pod template tells the gateway's pod labels.
CONTROLLER_KINDS = ("Deployment", "DaemonSet", "StatefulSet")
#: Every kind :func:`gateway_labels` may answer for.
WORKLOAD_KINDS = (*CONTROLLER_KINDS, "Pod", "Service")


def could_be_gateway(kind: str, text: str) -> bool:
    """``False`` when the resource's YAML text (without anchors or aliases) surely fails
    :func:`gateway_labels`: every string that test looks for is missing from it. A backslash
    (a double-quoted escape could spell them) answers ``True``."""
    if "\\" in text:
        return True
    if kind == "Service":
        return "istio" in text
    return "proxyv2" in text or "inject.istio.io/templates" in text


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
    if kind in CONTROLLER_KINDS:
        template = as_dict(spec.get("template")) or {}
        meta = as_dict(template.get("metadata")) or {}
        pod_spec = as_dict(template.get("spec")) or {}
    elif kind == "Pod":
        meta = as_dict(value.get("metadata")) or {}
        pod_spec = spec
    else:
        return None
    labels = as_str_map(meta.get("labels"))
    templates = as_str_map(meta.get("annotations")).get("inject.istio.io/templates", "")
    containers = pod_spec.get("containers")
    images = [str((as_dict(c) or {}).get("image", ""))
              for c in (containers if isinstance(containers, list) else [])]
    if labels and ("gateway" in templates or any("proxyv2" in i for i in images)):
        return ("pods", labels)
    return None
