# P12 through the built seam: FIG. 11 (the factory; the controller updates purse 1.0 to
# 2.0 from its flash, the purse keeps its PIN and balance; refusals; a restore from the
# flash), FIG. 10 (the card in the terminal: seam terminal perso update on the image) and
# FIG. 12 (the terminal drives the card in the flash card through its host interface).
# The scenarios are in flashcard_check.cmake.
foreach(fig fig10 fig11 fig12)
  add_test(NAME cli_flashcard_${fig}
    COMMAND ${CMAKE_COMMAND} -DSEAM=$<TARGET_FILE:seam-cli> -DAPPS=${CMAKE_BINARY_DIR}/apps
      -DWORK=${CMAKE_CURRENT_BINARY_DIR}/flashcard_${fig} -DCASE=${fig}
      -P ${CMAKE_CURRENT_SOURCE_DIR}/flashcard_check.cmake)
endforeach()
