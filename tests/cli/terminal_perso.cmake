# seam terminal perso (P4, P6, P9, P10): a local operator creates the domain on a card the
# way the issuer does, installs a purse personalized in the terminal, updates it, and the
# store lists the record; a key file others may read is refused. Scenario in
# terminal_perso_check.cmake.
add_test(NAME cli_terminal_perso_P6_P9
  COMMAND ${CMAKE_COMMAND} -DSEAM=$<TARGET_FILE:seam-cli> -DAPPS=${CMAKE_BINARY_DIR}/apps
    -DWORK=${CMAKE_CURRENT_BINARY_DIR}/terminal_perso
    -P ${CMAKE_CURRENT_SOURCE_DIR}/terminal_perso_check.cmake)
