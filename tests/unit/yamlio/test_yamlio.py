"""The YAML layer: scan, splice, loads, dumps — text in, text out, nothing re-serialised that the
function did not change."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from merge_https_redirects import yamlio
from merge_https_redirects.yamlio import ItemEdit, YamlError


def wanted(api_version: str, kind: str) -> bool:
    return kind in ("Gateway", "VirtualService")


def rewrite(text: str, edits: dict[int, ItemEdit], new: list[Any] | None = None) -> str:
    decoded = yamlio.decode(text.encode())
    bundle = yamlio.scan_stream(decoded.body, wanted)
    body = yamlio.splice_stream(bundle, edits, new or [], decoded.newline)
    return yamlio.encode(decoded, body).decode()


def drop(*paths: tuple[str | int, ...]) -> ItemEdit:
    return ItemEdit(remove=tuple(paths))


SERVERS = ("spec", "servers")

STREAM = """\
# file header comment
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings  # trailing
data:
  enabled: "yes"
  mode: '0755'
  version: "1.10"
  script: |
    #!/bin/sh
    echo  "keep   spacing"
---
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata:
  name: gw
spec:
  servers:
  # comment of server 0
  - port:
      number: 80
      name: http
      protocol: HTTP
    hosts:
    - a.example.com
    tls:
      httpsRedirect: true # inline
  # comment of server 1

  # comment of server 1, after a blank line
  - port:
      number: 443
      name: https
      protocol: HTTPS
    hosts: ['a.example.com']
---
# leading comment of the third document
apiVersion: v1
kind: Service
metadata:
  name: svc
spec:
  ports: [{port: 80}]
"""


# --- untouched items ----------------------------------------------------------------------------
def test_no_edit_is_byte_identical() -> None:
    assert rewrite(STREAM, {}) == STREAM


def test_untouched_items_byte_identical_around_an_edit() -> None:
    out = rewrite(STREAM, {1: drop((*SERVERS, 0))})
    first_doc = STREAM[: STREAM.index("---\n") + 4]
    last_doc = STREAM[STREAM.rindex("---\n"):]
    assert out.startswith(first_doc)
    assert out.endswith(last_doc)


# --- removing sequence entries ------------------------------------------------------------------
def test_remove_first_entry_takes_its_lines_and_own_comment() -> None:
    out = rewrite(STREAM, {1: drop((*SERVERS, 0))})
    removed = """\
  # comment of server 0
  - port:
      number: 80
      name: http
      protocol: HTTP
    hosts:
    - a.example.com
    tls:
      httpsRedirect: true # inline
"""
    assert out == STREAM.replace(removed, "")


def test_remove_last_entry_keeps_comments_separated_by_a_blank_line() -> None:
    out = rewrite(STREAM, {1: drop((*SERVERS, 1))})
    removed = """\
  # comment of server 1, after a blank line
  - port:
      number: 443
      name: https
      protocol: HTTPS
    hosts: ['a.example.com']
"""
    # Only the comment line directly above the entry belongs to it.
    assert out == STREAM.replace(removed, "")


def test_remove_middle_entry_of_a_plain_list() -> None:
    text = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: vs
spec:
  gateways:
  - one
  # about two
  - two   # inline about two
  - three
  hosts:
  - a
"""
    out = rewrite(text, {0: drop(("spec", "gateways", 1))})
    assert out == text.replace("  # about two\n  - two   # inline about two\n", "")


def test_remove_several_entries_of_several_lists() -> None:
    text = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: vs
spec:
  gateways:
  - one
  - two
  - three
  hosts:
  - a
  - b
"""
    out = rewrite(text, {0: drop(("spec", "gateways", 0), ("spec", "gateways", 2),
                                 ("spec", "hosts", 1))})
    assert out == text.replace("  - one\n", "").replace("  - three\n", "").replace(
        "  - b\n", "")


def test_flow_sequence_entry_removed_in_place() -> None:
    text = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: vs
spec:
  gateways: [first, "second", 'third'] # keep me
  hosts: [a]
"""
    out = rewrite(text, {0: drop(("spec", "gateways", 1))})
    assert out == text.replace('[first, "second", \'third\']', "[first, 'third']")


def test_flow_sequence_over_several_lines() -> None:
    text = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: vs
spec:
  gateways: [
    first,
    second,
  ]
  hosts: [a]
"""
    out = rewrite(text, {0: drop(("spec", "gateways", 0))})
    assert yamlio.loads(out)["spec"] == {"gateways": ["second"], "hosts": ["a"]}
    assert out.endswith("  hosts: [a]\n")


def test_wide_sequence_indent() -> None:
    text = """\
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: gw
spec:
  servers:
    - port: {number: 80, name: http, protocol: HTTP}
      hosts:
        - a
    # about 443
    - port: {number: 443, name: https, protocol: HTTPS}
      hosts:
        - a
"""
    out = rewrite(text, {0: drop((*SERVERS, 0))})
    assert out == text.replace(
        "    - port: {number: 80, name: http, protocol: HTTP}\n      hosts:\n        - a\n", "")
    assert yamlio.scan_stream(text, wanted).wide_sequences is True


def test_new_documents_follow_the_house_style() -> None:
    wide = """\
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: gw
spec:
  servers:
    - hosts:
        - a
"""
    compact = wide.replace("    - hosts:\n        - a\n", "  - hosts:\n    - a\n")
    new = {"apiVersion": "v1", "kind": "Gateway", "metadata": {"name": "n"},
           "spec": {"servers": [{"hosts": ["*"]}]}}
    assert rewrite(wide, {}, [new]).endswith(
        "---\napiVersion: v1\nkind: Gateway\nmetadata:\n  name: \"n\"\nspec:\n  servers:\n"
        "    - hosts:\n        - \"*\"\n")
    assert rewrite(compact, {}, [new]).endswith(
        "---\napiVersion: v1\nkind: Gateway\nmetadata:\n  name: \"n\"\nspec:\n  servers:\n"
        "  - hosts:\n    - \"*\"\n")


# --- deleting documents, '---' starts -----------------------------------------------------------
def test_delete_middle_document_with_its_separator_and_comments() -> None:
    out = rewrite(STREAM, {1: ItemEdit(delete=True)})
    gateway = STREAM[STREAM.index("---\n"): STREAM.rindex("---\n")]
    assert out == STREAM.replace(gateway, "")


def test_delete_last_document() -> None:
    out = rewrite(STREAM, {2: ItemEdit(delete=True)})
    assert out == STREAM[: STREAM.rindex("---\n")]


def test_explicit_document_starts() -> None:
    text = "---\napiVersion: v1\nkind: A\nmetadata: {name: a}\n--- # second\napiVersion: v1\n" \
           "kind: B\nmetadata: {name: b}\n---\napiVersion: v1\nkind: C\nmetadata: {name: c}\n"
    assert rewrite(text, {}) == text
    out = rewrite(text, {1: ItemEdit(delete=True)})
    assert out == text.replace("--- # second\napiVersion: v1\nkind: B\nmetadata: {name: b}\n", "")
    assert [d["kind"] for d in yamlio.loads_all(out)] == ["A", "C"]


def test_empty_documents_pass_through() -> None:
    text = "---\n# only a comment\n---\napiVersion: v1\nkind: A\nmetadata: {name: a}\n---\n"
    assert rewrite(text, {}) == text


# --- CRLF and BOM -------------------------------------------------------------------------------
def test_crlf_kept() -> None:
    text = STREAM.replace("\n", "\r\n")
    decoded = yamlio.decode(text.encode())
    assert decoded.newline == "\r\n"
    new = {"apiVersion": "v1", "kind": "Gateway", "metadata": {"name": "n"}}
    out = rewrite(text, {1: drop((*SERVERS, 0))}, [new])
    assert "\n" not in out.replace("\r\n", "")
    assert out.startswith(text[: text.index("---\r\n") + 5])
    assert "  # comment of server 0" not in out
    assert out.endswith("---\r\napiVersion: v1\r\nkind: Gateway\r\nmetadata:\r\n  name: \"n\"\r\n")


def test_bom_kept() -> None:
    data = b"\xef\xbb\xbf" + STREAM.encode()
    decoded = yamlio.decode(data)
    assert decoded.bom is True
    assert not decoded.body.startswith("\ufeff")
    assert yamlio.encode(decoded, decoded.body) == data
    bundle = yamlio.scan_stream(decoded.body, wanted)
    body = yamlio.splice_stream(bundle, {1: drop((*SERVERS, 1))}, [], decoded.newline)
    assert yamlio.encode(decoded, body).startswith(b"\xef\xbb\xbf# file header comment\n")


@pytest.mark.parametrize("data", [b"\xff\xfeapiVersion: v1\n", b"a: \xc3\x28\n",
                                  b"\xef\xbb\xbf\xef\xbb\xbfa: 1\n"])
def test_not_utf8_refused(data: bytes) -> None:
    with pytest.raises(YamlError):
        yamlio.decode(data)


# --- scalars are never retyped ------------------------------------------------------------------
TRICKY = {"yes": "yes", "no": "No", "on": "on", "octal": "0755", "version": "1.10",
          "float": "1e3", "hex": "0x1F", "null": "null", "tilde": "~", "empty": "",
          "date": "2024-01-01", "bool": "true", "colon": "a: b", "hash": "a #b",
          "star": "*", "dash": "- x", "lead": " x", "multi": "a\nb", "int": 7, "t": True,
          "none": None, "f": 1.5}


def test_dumps_round_trips_types() -> None:
    assert yamlio.loads(yamlio.dumps(TRICKY)) == TRICKY
    assert yamlio.loads(yamlio.dumps(TRICKY, wide=True)) == TRICKY
    import yaml  # an independent reader agrees (YAML 1.1 booleans included)

    assert yaml.safe_load(yamlio.dumps(TRICKY)) == TRICKY


def test_loads_keeps_quoted_and_block_scalars_as_strings() -> None:
    value = yamlio.loads(STREAM.split("---\n", maxsplit=1)[0])
    assert value["data"] == {"enabled": "yes", "mode": "0755", "version": "1.10",
                             "script": '#!/bin/sh\necho  "keep   spacing"\n'}


def test_loads_reads_plain_scalars_as_kubernetes_does() -> None:
    assert yamlio.loads("a: 80\nb: true\nc: 1.5\nd: null\ne: 2024-01-01\n") == {
        "a": 80, "b": True, "c": 1.5, "d": None, "e": "2024-01-01"}


# --- safety ------------------------------------------------------------------------------------
def test_duplicate_keys_refused() -> None:
    with pytest.raises(YamlError, match="duplicate key 'name'") as info:
        yamlio.loads("metadata:\n  name: a\n  name: b\n")
    assert info.value.line == 3


@pytest.mark.parametrize("text", [
    "!!python/object/apply:os.system ['echo pwned']\n",
    "a: !!python/name:os.system\n",
    "a: !Ref other\n",
    "a: !!set {x}\n",
])
def test_unknown_tags_refused(text: str) -> None:
    with pytest.raises(YamlError, match="tag"):
        yamlio.loads(text)


def test_alias_bomb_refused() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for name in "bcdefgh":
        prev = chr(ord(name) - 1)
        bomb += f"{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
    with pytest.raises(YamlError, match="aliases"):
        yamlio.loads(bomb)


GATEWAY_HEAD = "apiVersion: networking.istio.io/v1beta1\nkind: Gateway\nmetadata:\n"


def _run(function_bin: Path, text: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(function_bin)], input=text, capture_output=True, text=True,
                          timeout=60, check=False)


def test_duplicate_key_in_a_read_item_is_an_error_and_nothing_changes(
        function_bin: Path) -> None:
    text = (GATEWAY_HEAD + "  name: gw\n  namespace: a\nspec:\n  servers:\n"
            "  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: [a.example.com]\n"
            "    hosts: [b.example.com]\n    tls: {httpsRedirect: true}\n")
    run = _run(function_bin, text)
    assert run.returncode == 1
    assert run.stdout == text
    assert "error MHR010 Gateway a/gw" in run.stderr
    assert "duplicate key 'hosts'" in run.stderr


def test_unknown_tags_in_items(function_bin: Path, tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    opaque = f"apiVersion: v1\nkind: Template\nmetadata:\n  name: t\nvalue: !Ref other\n" \
             f"cmd: !!python/object/apply:os.system ['touch {marker}']\n"
    gateway = (GATEWAY_HEAD + f"  name: gw\nspec:\n  selector: !!python/object/apply:os.system"
               f" ['touch {marker}']\n")
    # An item the function does not read passes through untouched, tags and all.
    run = _run(function_bin, opaque)
    assert run.returncode == 0, run.stderr
    assert run.stdout == opaque
    # An Istio item with a Python tag is refused, left as it is, never executed.
    run = _run(function_bin, gateway + "---\n" + opaque)
    assert run.returncode == 1
    assert run.stdout == gateway + "---\n" + opaque
    assert "error MHR010 Gateway default/gw" in run.stderr
    assert not marker.exists()


# --- ResourceList splices -----------------------------------------------------------------------
RESOURCE_LIST = """\
apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: untouched
    annotations:
      config.kubernetes.io/path: 'cm.yaml'
  data: {a: "yes"}
- # leading comment, written by kpt after the dash
  apiVersion: networking.istio.io/v1beta1
  kind: Gateway
  metadata:
    name: gw
  spec:
    servers:
    - port: {number: 80, name: http, protocol: HTTP}
      hosts: [a]
    - port: {number: 443, name: https, protocol: HTTPS} # keep
      hosts: ['a']
- apiVersion: v1
  kind: Secret
  metadata:
    name: last
functionConfig:
  apiVersion: v1
  kind: ConfigMap
  metadata:
    name: function-input
"""


def splice_list(text: str, edits: dict[int, ItemEdit], new: list[Any],
                results: list[Any]) -> str:
    bundle = yamlio.scan_resource_list(text, wanted)
    return yamlio.splice_resource_list(bundle, edits, new, results, "\n")


def test_resource_list_untouched() -> None:
    assert splice_list(RESOURCE_LIST, {}, [], []) == RESOURCE_LIST


def test_resource_list_results_appended() -> None:
    out = splice_list(RESOURCE_LIST, {}, [], [{"message": "m", "severity": "info"}])
    assert out == RESOURCE_LIST + "results:\n- message: m\n  severity: info\n"


def test_resource_list_edit_of_an_item_with_a_comment_after_its_dash() -> None:
    """kpt puts a resource's leading comment right after the item's dash: editing that item
    must splice it like any other, not re-emit the whole list."""
    out = splice_list(RESOURCE_LIST, {1: drop((*SERVERS, 0))}, [], [])
    assert out == RESOURCE_LIST.replace(
        "    - port: {number: 80, name: http, protocol: HTTP}\n      hosts: [a]\n", "")


def test_resource_list_delete_of_an_item_with_a_comment_after_its_dash() -> None:
    out = splice_list(RESOURCE_LIST, {1: ItemEdit(delete=True)}, [], [])
    start = RESOURCE_LIST.index("- # leading comment")
    end = RESOURCE_LIST.index("- apiVersion: v1\n  kind: Secret")
    assert out == RESOURCE_LIST[:start] + RESOURCE_LIST[end:]


def test_first_document_kind() -> None:
    assert yamlio.first_document_kind(RESOURCE_LIST) == "ResourceList"
    assert yamlio.first_document_kind(STREAM) == "ConfigMap"
    assert yamlio.first_document_kind("- a\n") is None


@pytest.mark.parametrize(("first", "second", "duplicate"), [
    ("~", "null", True), ("1", "0x1", True), ("1", "1.0", True), ("on", "yes", True),
    ("'1'", "1", False), ("'~'", "null", False), ("a", "'a'", True), ("true", "True", True),
])
def test_duplicate_keys_compare_resolved(first: str, second: str, duplicate: bool) -> None:
    """Keys written differently that a YAML 1.1 reader holds as one (PyYAML keeps the last
    silently) are duplicates, in every resource; a quoted key stays a string."""
    text = (f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\n"
            f"data:\n  {first}: a\n  {second}: b\n")
    (item,) = yamlio.scan_stream(text, lambda *_: False).items
    assert (item.head_error is not None) is duplicate
    if duplicate:
        assert "duplicate key" in str(item.head_error)
