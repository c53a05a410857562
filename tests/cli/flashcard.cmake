# seam flashcard: the factory, and FIG. 11 driven from the command line (the controller
# updates purse 1.0 to 2.0 from its flash, the purse keeps its PIN and balance), plus
# refusals that change nothing. The scenario is in flashcard_check.cmake.
add_test(NAME cli_flashcard_fig11
  COMMAND ${CMAKE_COMMAND} -DSEAM=$<TARGET_FILE:seam-cli> -DAPPS=${CMAKE_BINARY_DIR}/apps
    -DWORK=${CMAKE_CURRENT_BINARY_DIR}/flashcard_fig11
    -P ${CMAKE_CURRENT_SOURCE_DIR}/flashcard_check.cmake)
