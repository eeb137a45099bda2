# Sourced before every doc block (test/docs/docs-blocks.test.ts): what a reader's machine has, made testable.

# `npx optimalcloud` runs the CLI the test runner built (dist/), or from source when a test file runs alone.
npx() {
  if [ "$1" = optimalcloud ]; then
    shift
    if [ "$OC_TEST_CLI" = dist ]; then
      node --enable-source-maps "$OC_ROOT/dist/cli.js" "$@"
    else
      node --import tsx "$OC_ROOT/src/cli.ts" "$@"
    fi
  else
    command npx "$@"
  fi
}

# curl as usual, and each answer (status, base64 body) appended to $OC_ANSWERS for the test to compare
# with what the page shows. A file, not a variable: calls inside $(…) run in subshells.
curl() {
  local out status
  out=$(command curl "$@" --write-out '\n@@status %{http_code}') || return $?
  status=${out##*@@status }
  out=${out%$'\n'@@status *}
  printf '%s\n' "$out"
  printf '%s %s\n' "$status" "$(printf '%s' "$out" | base64 -w0)" >>"$OC_ANSWERS"
}
