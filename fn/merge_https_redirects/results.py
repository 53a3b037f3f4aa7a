"""Findings as values: the KRM ``results`` entries every mode reports.

A :class:`Result` is built by the transform, the checker and the config parser, collected, sorted
and handed to the I/O boundary, which writes them into the ResourceList (KRM mode) or as one line
each on stderr (stream and files modes). Nothing here does I/O.
"""

from __future__ import annotations

from typing import NamedTuple

from merge_https_redirects.rules import Rule

TYPE_CHECKING = False  # what follows is for annotations only, never needed at run time
if TYPE_CHECKING:
    from typing import Any, Literal

    Severity = Literal["error", "warning", "info"]

_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


#: Kinds without a namespace among those the function names in its findings.
CLUSTER_SCOPED = frozenset({"ClusterIssuer", "IngressClass", "Namespace", "GatewayClass",
                            "IstioOperator"})


class ResourceRef(NamedTuple):
    """Identity of a resource as the KRM results spec names it."""

    api_version: str
    kind: str
    name: str
    namespace: str = ""

    def to_krm(self) -> dict[str, str]:
        out = {"apiVersion": self.api_version, "kind": self.kind, "name": self.name}
        if self.namespace:
            out["namespace"] = self.namespace
        return out

    def __str__(self) -> str:
        """``Kind ns/name``; a namespaced resource without namespace is shown in ``default``,
        where the function (like ``kubectl apply``) takes it to be."""
        namespace = self.namespace or ("" if self.kind in CLUSTER_SCOPED else "default")
        where = f"{namespace}/" if namespace else ""
        return f"{self.kind or 'resource'} {where}{self.name or '(no name)'}"


class FileRef(NamedTuple):
    """Where a resource came from: kpt/kustomize path annotation, or the file read in files mode."""

    path: str
    index: int | None = None  # type: ignore[assignment]  # the KRM name; tuple.index unused

    def to_krm(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path}
        if self.index is not None:
            out["index"] = self.index
        return out

    def __str__(self) -> str:
        return self.path if self.index is None else f"{self.path}[{self.index}]"


class Result(NamedTuple):
    """One finding. ``rule`` gives the stable ID (``MHR001``) written into ``tags``."""

    rule: Rule
    message: str
    severity: Severity | None = None  # None: the rule's default severity
    resource: ResourceRef | None = None
    field_path: str | None = None
    file: FileRef | None = None
    extra_tags: tuple[tuple[str, str], ...] = ()

    @property
    def level(self) -> Severity:
        return self.severity or self.rule.severity

    def sort_key(self) -> tuple[Any, ...]:
        ref = self.resource
        return (
            _SEVERITY_ORDER[self.level],
            self.rule.id,
            (ref.namespace, ref.kind, ref.name) if ref else ("", "", ""),
            self.field_path or "",
            self.message,
        )

    def to_krm(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message, "severity": self.level}
        if self.resource is not None:
            out["resourceRef"] = self.resource.to_krm()
        if self.field_path is not None:
            out["field"] = {"path": self.field_path}
        if self.file is not None:
            out["file"] = self.file.to_krm()
        out["tags"] = {"rule": self.rule.id, "name": self.rule.name, **dict(self.extra_tags)}
        return out

    def one_line(self) -> str:
        """The stderr form: ``error MHR010 Gateway ns/gw spec.servers[0]: message (file.yaml)``."""
        parts = [f"{self.level} {self.rule.id}"]
        if self.resource is not None:
            parts.append(str(self.resource))
        if self.field_path:
            parts.append(self.field_path)
        text = " ".join(parts) + ": " + self.message.replace("\n", " ")
        if self.file is not None:
            text += f" ({self.file})"
        return text


def sorted_results(results: list[Result]) -> list[Result]:
    """Errors first, then by rule and resource: stable output for reviewers and golden tests."""
    return sorted(results, key=Result.sort_key)


def has_errors(results: list[Result], fail_on: str = "error") -> bool:
    """Whether the run fails: an error result, or (``failOn: warning``) a warning."""
    failing = ("error", "warning") if fail_on == "warning" else ("error",)
    return any(r.level in failing for r in results)
