# Applet diagnostics on stderr (issue 10, section 3): seam card script and seam
# gp --image show why an applet failed (reason, instance, entry point, function
# index, offset and name), seam_debug lines on a development card and none on
# a production one, the fuel at SEAM_LOG=debug; the responses stay the same.
# The scenarios are in diag_check.cmake.
foreach(case failures install profiles)
  add_test(NAME cli_diag_${case}
    COMMAND ${CMAKE_COMMAND} -DSEAM=$<TARGET_FILE:seam-cli> -DAPPS=${CMAKE_BINARY_DIR}/apps
      -DWORK=${CMAKE_CURRENT_BINARY_DIR}/diag_${case} -DCASE=${case}
      -P ${CMAKE_CURRENT_SOURCE_DIR}/diag_check.cmake)
endforeach()
