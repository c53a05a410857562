# Driver: creates a card, runs SCRIPT against it, and checks the exit status
# and that every ';'-separated piece of EXPECT_TEXT appears in the output.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
execute_process(COMMAND ${SEAM} card new --image ${WORK}/card.db RESULT_VARIABLE created
                OUTPUT_QUIET)
if(NOT created EQUAL 0)
  message(FATAL_ERROR "seam card new failed (${created})")
endif()
execute_process(COMMAND ${SEAM} card script --image ${WORK}/card.db ${SCRIPT}
                RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT status EQUAL EXPECT_EXIT)
  message(FATAL_ERROR "exit ${status}, expected ${EXPECT_EXIT}\n${out}${err}")
endif()
foreach(piece ${EXPECT_TEXT})
  string(FIND "${out}" "${piece}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "output lacks '${piece}':\n${out}${err}")
  endif()
endforeach()
