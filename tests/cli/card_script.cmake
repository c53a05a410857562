# seam card script: a script that must pass, and one whose failures must be reported.
foreach(case ok wrong)
  if(case STREQUAL "ok")
    set(script isd.script)
    set(expect_exit 0)
    set(expect_text "bytes in 178, bytes out 306, commands 16;14 passed, 0 failed")
    set(name cli_card_script_checks_the_isd_through_scp03)
  else()
    set(script isd_wrong.script)
    set(expect_exit 1)
    set(expect_text "expected 6A88, got 9000;card cryptogram does not verify;bytes in 24, bytes out 46, commands 3;1 passed, 2 failed")
    set(name cli_card_script_reports_wrong_expectations_and_keys)
  endif()
  add_test(NAME ${name}
    COMMAND ${CMAKE_COMMAND} -DSEAM=$<TARGET_FILE:seam-cli>
      -DSCRIPT=${CMAKE_CURRENT_SOURCE_DIR}/data/${script}
      -DWORK=${CMAKE_CURRENT_BINARY_DIR}/card_script_${case}
      -DEXPECT_EXIT=${expect_exit} "-DEXPECT_TEXT=${expect_text}"
      -P ${CMAKE_CURRENT_SOURCE_DIR}/card_script_check.cmake)
endforeach()
