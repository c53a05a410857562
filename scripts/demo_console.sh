# The end of the seam demo when asked for the console (make demo CONSOLE=1; sourced
# by scripts/demo.sh, which defines SEAM, OUT, APPS and die): the operator's console
# (issue 16, docs/console.md). scripts/console_stage.sh starts a seam server with a
# fleet of six cards holding purse 1.0, their handsets synchronized, so the server
# proposes purse 2.0; the demo prints the console's address and the token to log in
# with, and leaves the server running until Ctrl-C. Accept the proposal in the
# browser, then run the printed `seam fleet` command and watch the campaign complete.

echo
echo "== The operator's console (issue 16) =="
echo
scripts/console_stage.sh "$SEAM" "$APPS" "$OUT/console" 6 >"$OUT/console.env" ||
    die "scripts/console_stage.sh"
. "$OUT/console.env"
trap 'kill "$SERVER_PID" 2>/dev/null; echo; echo "demo: console server stopped."; exit 0' INT TERM
echo "seam server runs with six cards (purse 1.0) and a proposal to update them to 2.0."
echo
echo "    open      $URL/"
echo "    token     $TOKEN"
echo
echo "Log in with the token, accept the proposal under Proposals, then let the cards'"
echo "terminals run their admin sessions (in another shell):"
echo
echo "    $SEAM fleet --cards $CARDS --dir $FLEET_DIR --server $URL"
echo
echo "The console follows the campaign without a reload. Ctrl-C stops the server."
# the server is console_stage.sh's child, not this shell's: wait for it by polling
while kill -0 "$SERVER_PID" 2>/dev/null; do
    sleep 1
done
echo "demo: the console's server stopped."
