# Included by the drivers of seam gp and seam card script: a card's state as the
# commands show it, to check that a refused command changed nothing. Needs SEAM,
# image and test_key set, and the function gp() of gp_check.cmake or the one below.

if(NOT COMMAND gp)
  # gp(EXIT status [OUT regex...] [ERR regex...] ARGS args...): seam gp --image with args.
  function(gp)
    cmake_parse_arguments(PARSE_ARGV 0 g "" "EXIT" "OUT;ERR;ARGS")
    execute_process(COMMAND ${SEAM} gp --image ${image} ${g_ARGS}
                    RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT status EQUAL g_EXIT)
      message(FATAL_ERROR "seam gp ${g_ARGS}: exit ${status}, expected ${g_EXIT}\n${out}${err}")
    endif()
    set(gp_out "${out}" PARENT_SCOPE)
    set(gp_err "${err}" PARENT_SCOPE)
  endfunction()
endif()

# state(VAR [KEY HEX]): the card as its registry listing shows it: `seam gp list`
# (through the ISD, keys KEY) and `seam card list`.
function(state var)
  cmake_parse_arguments(PARSE_ARGV 1 s "" "KEY" "")
  if(NOT s_KEY)
    set(s_KEY ${test_key})
  endif()
  gp(EXIT 0 ARGS --key ${s_KEY} list)
  set(listing "${gp_out}")
  execute_process(COMMAND ${SEAM} card list --image ${image} RESULT_VARIABLE status
                  OUTPUT_VARIABLE card_list)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "seam card list failed (${status})")
  endif()
  set(${var} "${listing}${card_list}" PARENT_SCOPE)
endfunction()

function(unchanged before what)
  state(now ${ARGN})
  if(NOT now STREQUAL before)
    message(FATAL_ERROR "${what} changed the card:\nbefore:\n${before}\nafter:\n${now}")
  endif()
endfunction()

