# Runs `seam wasm spec` on one input and checks what it reports; see spec.cmake.
# -DSEAM=seam -DWAST2JSON=wast2json -DINPUT=file.wast|dir -DWORK=scratch dir
# -DSUMMARY=exact closing line -DEXPECT_EXIT=status [-DFAILURE=regex of a printed line]
if(INPUT MATCHES "\\.wast$")
  file(REMOVE_RECURSE ${WORK})
  file(MAKE_DIRECTORY ${WORK})
  get_filename_component(name ${INPUT} NAME_WE)
  execute_process(COMMAND ${WAST2JSON} ${INPUT} -o ${WORK}/${name}.json
                  RESULT_VARIABLE status ERROR_VARIABLE errors)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "wast2json failed on ${INPUT} (${status}): ${errors}")
  endif()
  set(dir ${WORK})
else()
  set(dir ${INPUT})
endif()

execute_process(COMMAND ${SEAM} wasm spec ${dir}
                RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE errors)
message("${output}${errors}")

string(REGEX REPLACE "\n+$" "" trimmed "${output}")
string(REGEX MATCH "[^\n]*$" last "${trimmed}")
if(NOT last STREQUAL SUMMARY)
  message(FATAL_ERROR "closing line is '${last}', expected '${SUMMARY}'")
endif()
if(NOT status STREQUAL EXPECT_EXIT)
  message(FATAL_ERROR "exit status is '${status}', expected ${EXPECT_EXIT}")
endif()
if(FAILURE AND NOT output MATCHES "${FAILURE}")
  message(FATAL_ERROR "no output line matches '${FAILURE}'")
endif()
