# seam --version, --help of every command, and JSON with hex strings for byte values.
add_test(NAME cli_commands_help_version_json
  COMMAND ${CMAKE_COMMAND} -DSEAM=$<TARGET_FILE:seam-cli> -DAPPS=${CMAKE_BINARY_DIR}/apps
    -DWORK=${CMAKE_CURRENT_BINARY_DIR}/commands -P ${CMAKE_CURRENT_SOURCE_DIR}/commands_check.cmake)
