# seam card new / script / list / serve and the card image's storage key file and
# owner (issue 9, items 6 and 7).
add_test(NAME hardening_06_cli_key_file_errors_P10
  COMMAND ${CMAKE_COMMAND} -DSEAM=$<TARGET_FILE:seam-cli>
    -DSCRIPT=${CMAKE_CURRENT_SOURCE_DIR}/data/isd.script
    -DWORK=${CMAKE_CURRENT_BINARY_DIR}/card_key
    -P ${CMAKE_CURRENT_SOURCE_DIR}/card_key_check.cmake)
# Two real processes: seam card serve holds the image (pointed at a vpcd port where
# nothing listens, never the default one) while seam card script tries to write it.
add_test(NAME hardening_07_cli_serve_holds_the_image_X4
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/card_lock.sh $<TARGET_FILE:seam-cli>
    ${CMAKE_CURRENT_BINARY_DIR}/card_lock ${CMAKE_CURRENT_SOURCE_DIR}/data/isd.script)
