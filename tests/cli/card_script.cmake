# seam card script: scripts that must pass, and one whose failures must be reported.
foreach(case ok wrong putkey)
  if(case STREQUAL "ok")
    set(script isd.script)
    set(expect_exit 0)
    set(expect_text "bytes in 178, bytes out 306, commands 16;14 passed, 0 failed")
    set(name cli_card_script_checks_the_isd_through_scp03)
  elseif(case STREQUAL "wrong")
    set(script isd_wrong.script)
    set(expect_exit 1)
    set(expect_text "expected 6A88, got 9000;card cryptogram does not verify;no secure channel is open;bytes in 24, bytes out 46, commands 3;1 passed, 3 failed")
    set(name cli_card_script_reports_wrong_expectations_and_keys)
  else()
    # KCVs: AES-128(key, 16 x 01), first 3 bytes, as openssl enc -aes-128-ecb computes them
    set(script putkey.script)
    set(expect_exit 0)
    set(expect_text "AES-128, ENC = MAC = DEK, KCV C35280);< 30C35280C35280C352809000;< 31504A77504A77504A779000;< 32C35280C35280C352809000;bytes in 464, bytes out 310, commands 14;10 passed, 0 failed")
    set(name cli_card_script_putkey_replaces_and_adds_key_sets)
  endif()
  add_test(NAME ${name}
    COMMAND ${CMAKE_COMMAND} -DSEAM=$<TARGET_FILE:seam-cli>
      -DSCRIPT=${CMAKE_CURRENT_SOURCE_DIR}/data/${script}
      -DWORK=${CMAKE_CURRENT_BINARY_DIR}/card_script_${case}
      -DEXPECT_EXIT=${expect_exit} "-DEXPECT_TEXT=${expect_text}"
      -P ${CMAKE_CURRENT_SOURCE_DIR}/card_script_check.cmake)
endforeach()
# --check, --stop-on-error, the directives that compute lengths (.install, .delete,
# .upgrade, .store-data), 61xx collected, and each bad input with the card unchanged.
foreach(case check directives errors toolkit)
  add_test(NAME cli_card_script_${case}
    COMMAND ${CMAKE_COMMAND} -DSEAM=$<TARGET_FILE:seam-cli> -DAPPS=${CMAKE_BINARY_DIR}/apps
      -DDATA=${CMAKE_CURRENT_SOURCE_DIR}/data -DWORK=${CMAKE_CURRENT_BINARY_DIR}/card_script_${case}
      -DCASE=${case} -P ${CMAKE_CURRENT_SOURCE_DIR}/card_script_cases.cmake)
endforeach()
