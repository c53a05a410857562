# seam gp --image: each action and each error, the card unchanged after every
# error (its `seam gp list` and `seam card list` outputs compared before and
# after). The scenarios are in gp_check.cmake.
foreach(case cycle errors actions help)
  add_test(NAME cli_gp_${case}
    COMMAND ${CMAKE_COMMAND} -DSEAM=$<TARGET_FILE:seam-cli> -DAPPS=${CMAKE_BINARY_DIR}/apps
      -DWORK=${CMAKE_CURRENT_BINARY_DIR}/gp_${case} -DCASE=${case}
      -P ${CMAKE_CURRENT_SOURCE_DIR}/gp_check.cmake)
endforeach()
