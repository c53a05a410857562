# Tests of `seam wasm spec`: small .wast scripts (data/) converted with
# wast2json at test time and run by spec_check.cmake, which checks the closing
# "N passed, M failed, K skipped" line, the exit status and, optionally, that a
# given failure line was printed.

find_program(SEAM_WAST2JSON wast2json)
if(NOT SEAM_WAST2JSON)
  message(FATAL_ERROR "tests/cli: wast2json not found; the seam wasm spec tests need it "
                      "(on Debian: apt-get install wabt)")
endif()

# seam_spec_test(NAME INPUT file.wast|dir SUMMARY line EXIT status [FAILURE regex])
function(seam_spec_test name)
  cmake_parse_arguments(PARSE_ARGV 1 check "" "INPUT;SUMMARY;EXIT;FAILURE" "")
  add_test(NAME cli_spec_${name}
           COMMAND ${CMAKE_COMMAND} -DSEAM=$<TARGET_FILE:seam-cli> -DWAST2JSON=${SEAM_WAST2JSON}
                   -DINPUT=${check_INPUT} -DWORK=${CMAKE_CURRENT_BINARY_DIR}/spec/${name}
                   "-DSUMMARY=${check_SUMMARY}" -DEXPECT_EXIT=${check_EXIT}
                   "-DFAILURE=${check_FAILURE}" -P ${CMAKE_CURRENT_SOURCE_DIR}/spec_check.cmake)
endfunction()

set(data ${CMAKE_CURRENT_SOURCE_DIR}/data)

# Every command type passes; only the text-format assert_malformed is skipped.
seam_spec_test(passes_correct_script INPUT ${data}/spec_pass.wast
  SUMMARY "21 passed, 0 failed, 1 skipped" EXIT 0)

# One deliberately wrong assert_return is reported, counted and fails the run.
seam_spec_test(reports_wrong_assert_return INPUT ${data}/spec_fail.wast
  SUMMARY "4 passed, 1 failed, 0 skipped" EXIT 1
  FAILURE "/spec_fail\\.wast:8: assert_return: invoke \"add\": expected \\(i32:5\\), got \\(i32:4\\)")

# A truncated .json file is one failure, not a crash.
seam_spec_test(counts_malformed_json_as_failure INPUT ${data}/spec_broken
  SUMMARY "0 passed, 1 failed, 0 skipped" EXIT 1 FAILURE "/broken\\.json:0: file: malformed JSON")

# Export and import names are byte strings (issue 9 item 15): "", "\00",
# "\00\01", "\00\00" and two spellings of é are different exports, each reached
# by its exact bytes; registered and imported names may hold NUL bytes too.
seam_spec_test(hardening_15_names_are_byte_strings INPUT ${data}/spec_names.wast
  SUMMARY "17 passed, 0 failed, 0 skipped" EXIT 0)

# The same through JSON escapes written by hand (\u0000, \u00e9, a surrogate
# pair, an escaped backslash before "u0000"); a name that is not exported
# ("\00\00\00") fails, naming it with its NUL bytes.
seam_spec_test(hardening_15_json_escapes_keep_name_bytes INPUT ${data}/spec_names_escaped
  SUMMARY "9 passed, 1 failed, 0 skipped" EXIT 1
  FAILURE "names\\.wast:10: assert_return: export \"\\\\00\\\\00\\\\00\": ")
