# Driver of hardening_06_cli_key_file_errors_P10: seam card new writes the storage
# key file and says where it is; script and list with the key file missing or
# wrong fail with a message naming the problem and the file, and change nothing;
# $SEAM_CARD_KEY_FILE points at a key kept apart; new never overwrites a key file.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(image ${WORK}/card.db)

# run(NAME ARGS...): runs seam with ARGS, leaving NAME_status, NAME_out, NAME_err.
macro(run name)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE ${name}_status OUTPUT_VARIABLE ${name}_out
                  ERROR_VARIABLE ${name}_err)
endmacro()

# expect_failure(NAME PIECE...): NAME exited non-zero and its stderr holds every PIECE.
macro(expect_failure name)
  if(${name}_status EQUAL 0)
    message(FATAL_ERROR "${name} succeeded, expected a failure:\n${${name}_out}${${name}_err}")
  endif()
  foreach(piece ${ARGN})
    string(FIND "${${name}_err}" "${piece}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "${name}: stderr lacks '${piece}':\n${${name}_err}")
    endif()
  endforeach()
endmacro()

run(new ${SEAM} card new --image ${image})
if(NOT new_status EQUAL 0)
  message(FATAL_ERROR "seam card new failed (${new_status}):\n${new_out}${new_err}")
endif()
foreach(piece "${image}.key" "without it")
  string(FIND "${new_out}" "${piece}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "seam card new does not say '${piece}':\n${new_out}")
  endif()
endforeach()
file(SHA256 ${image} digest_before)

# The key file missing: script and list name the file.
file(RENAME ${image}.key ${WORK}/apart.key)
run(script_missing ${SEAM} card script --image ${image} ${SCRIPT})
expect_failure(script_missing "${image}.key" "storage key file")
run(list_missing ${SEAM} card list --image ${image})
expect_failure(list_missing "${image}.key" "storage key file")

# A wrong key (another valid one): the key does not open the image.
file(WRITE ${image}.key "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF\n")
run(script_wrong ${SEAM} card script --image ${image} ${SCRIPT})
expect_failure(script_wrong "storage key does not open" "${image}.key")
run(list_wrong ${SEAM} card list --image ${image})
expect_failure(list_wrong "storage key does not open" "${image}.key")
file(SHA256 ${image} digest_after)
if(NOT digest_before STREQUAL digest_after)
  message(FATAL_ERROR "the refused opens changed ${image}")
endif()

# The key kept apart, named by SEAM_CARD_KEY_FILE.
run(script_env ${CMAKE_COMMAND} -E env SEAM_CARD_KEY_FILE=${WORK}/apart.key
    ${SEAM} card script --image ${image} ${SCRIPT})
if(NOT script_env_status EQUAL 0)
  message(FATAL_ERROR "with SEAM_CARD_KEY_FILE: exit ${script_env_status}\n${script_env_out}${script_env_err}")
endif()

# seam card new never overwrites a key file (here the wrong one left beside the image).
file(REMOVE ${image})
run(new_again ${SEAM} card new --image ${image})
expect_failure(new_again "${image}.key" "already exists")
file(READ ${image}.key kept)
if(NOT kept STREQUAL "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF\n")
  message(FATAL_ERROR "seam card new changed the existing key file")
endif()
if(EXISTS ${image})
  message(FATAL_ERROR "seam card new left an image behind after refusing")
endif()
