#!/bin/sh
# Helm 4 post-renderer: the rendered manifests arrive on stdin, the
# merge-https-redirects stream mode rewrites them, the result goes to stdout.
# Arguments (helm --post-renderer-args) go to the function, e.g. --config=FILE.
#
# Helm 4 discards a plugin's stderr and reports a failing plugin only as
# `plugin "merge-https-redirects" exited with error`. So on failure this script
# prints one document Helm cannot load (its `kind` is a map) whose
# postrenderer.helm.sh/postrender-filename annotation carries the function's
# messages, and exits 0: Helm then fails with
#   Error: YAML parse error on merge-https-redirects failed (exit 1): <messages>
# Nothing is ever installed or printed as a manifest in that case.
set -u

# The function to run: $MERGE_HTTPS_REDIRECTS; else the launcher that
# `merge-https-redirects install-helm-plugin` writes beside this script (it runs the
# installation that installed the plugin, whatever PATH holds); else the console
# script on PATH.
fn="${MERGE_HTTPS_REDIRECTS:-}"
if [ -z "$fn" ]; then
  here=$(dirname "$0")
  if [ -x "$here/run-function" ]; then
    fn="$here/run-function"
  else
    fn=merge-https-redirects
  fi
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/merge-https-redirects.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT HUP INT TERM

if command -v "$fn" >/dev/null 2>&1; then
  "$fn" "$@" >"$work/out" 2>"$work/err"
  rc=$?
else
  printf '%s\n' "$fn: command not found; install merge-https-redirects" \
    "(pipx install merge-https-redirects, then merge-https-redirects install-helm-plugin)" \
    "or set MERGE_HTTPS_REDIRECTS to its path" \
    >"$work/err"
  rc=127
fi

if [ "$rc" -eq 0 ]; then
  cat "$work/err" >&2
  cat "$work/out"
  exit 0
fi

# YAML double-quoted scalar: escape \ and ", tabs; drop other control characters;
# join lines with "\n  " so each finding starts on its own indented line.
escaped=$(
  head -n 60 "$work/err" \
    | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/	/\\t/g' \
    | tr -d '\000-\010\013-\037\177' \
    | {
      sep=''
      while IFS= read -r line || [ -n "$line" ]; do
        printf '%s%s' "$sep" "$line"
        sep='\n  '
      done
    }
)
[ -n "$escaped" ] || escaped="no message on stderr"
cat "$work/err" >&2
cat <<DOC
apiVersion: merge-https-redirects.dev/v1alpha1
kind:
  error: merge-https-redirects failed; Helm shows the reason as the file name
metadata:
  name: merge-https-redirects-failed
  annotations:
    postrenderer.helm.sh/postrender-filename: "merge-https-redirects failed (exit $rc):\n  $escaped\n"
DOC
exit 0
