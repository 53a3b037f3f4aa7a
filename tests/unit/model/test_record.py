"""The model's records compare, hash and print like the frozen dataclasses they replace."""

from __future__ import annotations

import os
import subprocess
import sys

from merge_https_redirects.model.certmanager import NameRequest
from merge_https_redirects.model.certmanager_issuers import Solver
from merge_https_redirects.model.envoy import Answer, RouteConfig
from merge_https_redirects.model.gateway import _Gateway, _Server
from merge_https_redirects.model.http01 import _GatewayPending, _Pending
from merge_https_redirects.results import ResourceRef


def test_equal_by_value_within_a_class() -> None:
    a = Answer("404", None, None, "no route")
    assert a == Answer("404", None, None, "no route")
    assert a != Answer("404", None, None, "other")
    assert hash(a) == hash(Answer("404", None, None, "no route"))
    assert len({a, Answer("404", None, None, "no route")}) == 1


def test_other_classes_and_tuples_are_never_equal() -> None:
    a = Answer("404", None, None, "")
    assert a != ("404", None, None, "")
    request = NameRequest(ResourceRef("cert-manager.io/v1", "Certificate", "c", "ns"),
                          "a.example", "ns", "spec.dnsNames[0]", "ClusterIssuer", "le",
                          "cert-manager.io")
    solver = Solver(0, "http01-ingress")
    pending = _Pending(request, solver, "i", "d", ())
    assert pending == _Pending(request, solver, "i", "d", ())
    assert pending != _GatewayPending(request, solver, "i", "d", ())
    assert _GatewayPending._fields == _Pending._fields  # a subclass has its base's fields


def test_fields_in_the_order_written_and_repr() -> None:
    assert Answer._fields == ("kind", "virtual_host", "destination", "cause")
    assert repr(Answer("route", "a", "b", "c")) == (
        "Answer(kind='route', virtual_host='a', destination='b', cause='c')")
    # a field computed in __init__ is a field; a cache annotated only in __init__ is none
    assert _Gateway._fields[-1] == "key"
    assert RouteConfig._fields[-1] == "notes"


def test_a_derived_field_and_its_copy() -> None:
    server = _Server(0, 80, "HTTP", ("a.example",), True, True, "", "")
    gw = _Gateway("ns", "gw", None, (server,), (1, 0))
    assert gw.key == "ns/gw"
    later = gw.with_sort_key((2, 0))
    assert (later.sort_key, later.key, later.servers) == ((2, 0), "ns/gw", (server,))
    assert later != gw


BROKEN = r"""
from merge_https_redirects.model.record import Record
for body in ("name: str\n    __slots__ = ()\n    _fields = ('name',)",
             "name: str\n    size: int\n    __slots__ = ('name', 'size')\n    _fields = ('size',)"):
    try:
        exec(f"class Broken(Record):\n    {body}\n")
    except TypeError as exc:
        print(exc)
"""


def test_a_field_without_a_slot_or_out_of_its_list_is_refused() -> None:
    """Checked when the sources run (a Python class cannot derive from a compiled one, and
    compiled classes keep no annotations to check): the pure-Python run of the suite checks
    every record class at import."""
    done = subprocess.run([sys.executable, "-c", BROKEN], capture_output=True, text=True,
                          check=True, env={**os.environ, "MHR_PURE_PYTHON": "1"})
    assert done.stdout.splitlines() == [
        "Broken: fields without a slot: {'name'}",
        "Broken: _fields ('size',) are not the annotated fields ('name', 'size')"]


def test_a_merge_run_imports_no_dataclasses() -> None:
    """dataclasses (and inspect, ast, dis it imports) cost a run some 10 ms before its first
    class; the model's records must not bring it back."""
    code = ("import sys; import merge_https_redirects.rewrite.proof, "
            "merge_https_redirects.model.http01; "
            "print(sorted(m for m in ('dataclasses', 'inspect', 'hashlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
