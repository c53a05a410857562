# Runs `SEAM wasm run ARGS...` (ARGS separated by "|") and fails unless the
# exit status is EXPECT_EXIT, stdout equals EXPECT_STDOUT (when defined) and
# stderr matches STDERR_REGEX (when defined). Used by run.cmake.
#
# With FUEL_EXACT=ON it instead checks the fuel accounting end to end: the
# program is run with --stats, then again with --fuel set to the reported
# fuel used (must succeed with EXPECT_EXIT) and to one unit less (must stop
# with "fuel exhausted").
string(REPLACE "|" ";" args "${ARGS}")

# run(OUT_PREFIX ARG...): runs seam wasm run ARG..., setting <prefix>_status, _out, _err.
function(run prefix)
  execute_process(
    COMMAND ${SEAM} wasm run ${ARGN}
    RESULT_VARIABLE status
    OUTPUT_VARIABLE out
    ERROR_VARIABLE err)
  set(${prefix}_status "${status}" PARENT_SCOPE)
  set(${prefix}_out "${out}" PARENT_SCOPE)
  set(${prefix}_err "${err}" PARENT_SCOPE)
endfunction()

function(fail what)
  message(FATAL_ERROR "seam wasm run ${ARGN}\n${what}")
endfunction()

if(FUEL_EXACT)
  run(stats --stats ${args})
  if(NOT "${stats_status}" STREQUAL "${EXPECT_EXIT}"
     OR NOT "${stats_err}" MATCHES "seam: fuel used: ([0-9]+)\n")
    fail("--stats: status ${stats_status}, stderr:\n${stats_err}" --stats ${args})
  endif()
  set(used ${CMAKE_MATCH_1})
  math(EXPR short "${used} - 1")
  run(enough --fuel ${used} ${args})
  if(NOT "${enough_status}" STREQUAL "${EXPECT_EXIT}" OR NOT "${enough_out}" STREQUAL "${stats_out}")
    fail("the reported ${used} units were not enough: status ${enough_status}\n${enough_err}"
         --fuel ${used} ${args})
  endif()
  run(short --fuel ${short} ${args})
  if(NOT "${short_status}" STREQUAL "134" OR NOT "${short_err}" MATCHES "seam: trap: fuel exhausted")
    fail("one unit less than the reported ${used} did not exhaust the fuel: status ${short_status}\n${short_err}"
         --fuel ${short} ${args})
  endif()
  return()
endif()

run(run ${args})
set(problems "")
if(NOT "${run_status}" STREQUAL "${EXPECT_EXIT}")
  string(APPEND problems "exit status ${run_status}, expected ${EXPECT_EXIT}\n")
endif()
if(DEFINED EXPECT_STDOUT AND NOT "${run_out}" STREQUAL "${EXPECT_STDOUT}")
  string(APPEND problems "stdout differs; expected:\n${EXPECT_STDOUT}\n")
endif()
if(DEFINED STDERR_REGEX AND NOT "${run_err}" MATCHES "${STDERR_REGEX}")
  string(APPEND problems "stderr does not match /${STDERR_REGEX}/\n")
endif()
if(problems)
  fail("${problems}--- stdout:\n${run_out}\n--- stderr:\n${run_err}" ${args})
endif()
