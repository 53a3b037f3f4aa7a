"""The model's records compare, hash and print like the frozen dataclasses they replace."""

from __future__ import annotations

import subprocess
import sys

import pytest

from merge_https_redirects.model.envoy import Answer, RouteConfig
from merge_https_redirects.model.gateway import _Gateway, _Server
from merge_https_redirects.model.http01 import _GatewayPending, _Pending
from merge_https_redirects.model.record import Record


def test_equal_by_value_within_a_class() -> None:
    a = Answer("404", None, None, "no route")
    assert a == Answer("404", None, None, "no route")
    assert a != Answer("404", None, None, "other")
    assert hash(a) == hash(Answer("404", None, None, "no route"))
    assert len({a, Answer("404", None, None, "no route")}) == 1


def test_other_classes_and_tuples_are_never_equal() -> None:
    a = Answer("404", None, None, "")
    assert a != ("404", None, None, "")
    request, solver = object(), object()
    pending = _Pending(request, solver, "i", "d", ())  # type: ignore[arg-type]
    assert pending != _GatewayPending(request, solver, "i", "d", ())  # type: ignore[arg-type]
    assert _GatewayPending._fields == _Pending._fields  # a subclass has its base's fields


def test_fields_in_the_order_written_and_repr() -> None:
    assert Answer._fields == ("kind", "virtual_host", "destination", "cause")
    assert repr(Answer("route", "a", "b", "c")) == (
        "Answer(kind='route', virtual_host='a', destination='b', cause='c')")
    # a field computed in __init__ is a field; __dict__ (for cached_property) is none
    assert _Gateway._fields[-1] == "key"
    assert "__dict__" not in RouteConfig._fields


def test_a_derived_field_and_its_copy() -> None:
    server = _Server(0, 80, "HTTP", ("a.example",), True, True, "", "")
    gw = _Gateway("ns", "gw", None, (server,), (1, 0))
    assert gw.key == "ns/gw"
    later = gw.with_sort_key((2, 0))
    assert (later.sort_key, later.key, later.servers) == ((2, 0), "ns/gw", (server,))
    assert later != gw


def test_a_field_without_a_slot_is_refused() -> None:
    with pytest.raises(TypeError, match="fields without a slot"):
        class Broken(Record):
            name: str
            __slots__ = ()


def test_a_merge_run_imports_no_dataclasses() -> None:
    """dataclasses (and inspect, ast, dis it imports) cost a run some 10 ms before its first
    class; the model's records must not bring it back."""
    code = ("import sys; import merge_https_redirects.rewrite.proof, "
            "merge_https_redirects.model.http01; "
            "print(sorted(m for m in ('dataclasses', 'inspect', 'hashlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
