# seam terminal dm (S6): the terminal's device-management database shown and edited as a
# user would; the scenario is in terminal_dm_check.cmake.
add_test(NAME cli_terminal_dm_S6
  COMMAND ${CMAKE_COMMAND} -DSEAM=$<TARGET_FILE:seam-cli>
    -DWORK=${CMAKE_CURRENT_BINARY_DIR}/terminal_dm -P ${CMAKE_CURRENT_SOURCE_DIR}/terminal_dm_check.cmake)
