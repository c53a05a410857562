# Driver of the diagnostics tests (diag.cmake): CASE names the scenario; SEAM,
# APPS and WORK the command, the applets and a scratch folder.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(instance A0000005544401)
set(select "00A4040007A000000554440100 => 9000")

# run(EXIT status [ERR regex...] [NOT regex...] [ENV var=value...] ARGS args...): runs
# seam with args; checks the exit status, that stderr matches every ERR regex and
# none of the NOT ones. stdout and stderr are left in run_out and run_err.
function(run)
  cmake_parse_arguments(PARSE_ARGV 0 r "" "EXIT" "ERR;NOT;ENV;ARGS")
  execute_process(COMMAND ${CMAKE_COMMAND} -E env ${r_ENV} ${SEAM} ${r_ARGS}
                  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT status EQUAL r_EXIT)
    message(FATAL_ERROR "seam ${r_ARGS}: exit ${status}, expected ${r_EXIT}\n${out}${err}")
  endif()
  foreach(regex ${r_ERR})
    if(NOT err MATCHES "${regex}")
      message(FATAL_ERROR "seam ${r_ARGS}: stderr does not match '${regex}':\n${out}${err}")
    endif()
  endforeach()
  foreach(regex ${r_NOT})
    if(err MATCHES "${regex}")
      message(FATAL_ERROR "seam ${r_ARGS}: stderr matches '${regex}':\n${out}${err}")
    endif()
  endforeach()
  set(run_out "${out}" PARENT_SCOPE)
  set(run_err "${err}" PARENT_SCOPE)
endfunction()

# card(IMAGE [PROFILE]): a new card with test_diag installed (seam gp --image).
function(card image)
  set(profile development)
  if(ARGN)
    set(profile ${ARGN})
  endif()
  run(EXIT 0 ARGS card new --image ${WORK}/${image} --profile ${profile})
  run(EXIT 0 NOT "seam: applet" ARGS gp --image ${WORK}/${image} install ${APPS}/test_diag.wasm)
endfunction()

# A failure's line: instance, entry point, reason, then function, name and offset.
function(failure_line var reason name)
  set(${var} "seam: applet ${instance} process: ${reason}[^\n]* in function [0-9]+ <${name}> at module offset 0x[0-9a-f]+ \\(fuel [0-9]+ of 10000000\\)\n" PARENT_SCOPE)
endfunction()

if(CASE STREQUAL "failures")
  card(card.db)
  file(WRITE ${WORK}/failures.script "${select}
80010000 => 6F00
80020000 => 6F00
80030000 => 6F00
80040000 => 6F00
80050000 => 6F00
80090000 => 6F00
80060000 => 9000
")
  failure_line(divide "integer divide by zero" divide)
  failure_line(bounds "out of bounds memory access" read_far)
  failure_line(unreachable "unreachable" give_up)
  failure_line(fuel "fuel exhausted" spin)
  failure_line(host "host function failed: seam.apdu_send: range .0xffffff00, .16. outside linear memory" process)
  run(EXIT 0 ARGS card script --image ${WORK}/card.db ${WORK}/failures.script
      ERR "${divide}" "${bounds}" "${unreachable}" "${fuel}" "${host}"
          "seam: applet ${instance} process: invalid status word: returned 0x1234, not 6000..6FFF or 9000..9FFF \\(fuel [0-9]+ of 10000000\\)\n"
          "seam: applet ${instance} process: debug: hello from test_diag\n"
      NOT "seam: debug: applet")
  set(plain "${run_out}")
  if(NOT plain MATCHES "> 80010000\n< 6F00\n> 80020000\n< 6F00\n> 80030000\n< 6F00\n> 80040000\n< 6F00\n> 80050000\n< 6F00\n> 80090000\n< 6F00\n")
    message(FATAL_ERROR "the failed commands did not answer 6F00 alone:\n${plain}")
  endif()
  # at SEAM_LOG=debug, the fuel of every call too; the responses are the same bytes
  run(EXIT 0 ENV SEAM_LOG=debug ARGS card script --image ${WORK}/card.db ${WORK}/failures.script
      ERR "seam: debug: applet ${instance} select: fuel [0-9]+ of 10000000\n"
          "seam: debug: applet ${instance} process: fuel 10000000 of 10000000\n"
          "seam: debug: applet ${instance} process: fuel [1-9][0-9]* of 10000000\n" "${divide}")
  if(NOT run_out STREQUAL plain)
    message(FATAL_ERROR "SEAM_LOG=debug changed the output:\n${plain}\n---\n${run_out}")
  endif()
elseif(CASE STREQUAL "install")
  card(card.db)
  # INSTALL [for install and make selectable] whose install traps (parameters DE 00),
  # then a package with an import the card does not have
  file(WRITE ${WORK}/install.script ".scp03
80E60C002006A0000005544407A000000554440108A000000554440102010004C902DE000000 => 6F00
.load ${APPS}/test_import.wasm
")
  run(EXIT 1 ARGS card script --image ${WORK}/card.db ${WORK}/install.script
      ERR "seam: applet A000000554440102 install: integer divide by zero in function [0-9]+ <divide> at module offset 0x[0-9a-f]+"
          "seam: package A00000055449 load: link error: unknown import seam.frobnicate; the package is refused \\(6A80\\)\n")
  if(NOT run_out MATCHES "LOAD block [0-9]+( of [0-9]+)? answered 6A80")
    message(FATAL_ERROR "the package was not refused at LOAD:\n${run_out}")
  endif()
  # seam gp --image says the same
  run(EXIT 1 ARGS gp --image ${WORK}/card.db install ${APPS}/test_import.wasm
      ERR "seam: package A00000055449 load: link error: unknown import seam.frobnicate")
elseif(CASE STREQUAL "profiles")
  card(dev.db development)
  card(prod.db production)
  run(EXIT 0 ARGS card list --image ${WORK}/prod.db)
  if(NOT run_out MATCHES "card: lifecycle SECURED \\(0F\\), production profile\n")
    message(FATAL_ERROR "seam card list does not show the profile:\n${run_out}")
  endif()
  file(WRITE ${WORK}/debug.script "${select}
80060000 => 9000
80072800 => 9000
80080000 => 9000
80010000 => 6F00
")
  run(EXIT 0 ARGS card script --image ${WORK}/dev.db ${WORK}/debug.script
      ERR "seam: applet ${instance} process: debug: hello from test_diag\n"
          "seam: applet ${instance} process: debug: line 31\n"
          "seam: applet ${instance} process: 9 more seam_debug lines dropped"
          "seam: applet ${instance} process: seam_debug: range .0xffffff00, .200. outside linear memory\n"
          "integer divide by zero")
  set(dev "${run_out}")
  # production: the same applet, the same answers, no debug line; failures still said
  run(EXIT 0 ARGS card script --image ${WORK}/prod.db ${WORK}/debug.script
      ERR "seam: applet ${instance} process: integer divide by zero"
      NOT "debug" "seam_debug")
  if(NOT run_out STREQUAL dev)
    message(FATAL_ERROR "the profiles answered differently:\n${dev}\n---\n${run_out}")
  endif()
  run(EXIT 2 ERR "--profile is development \\(the default\\) or production"
      ARGS card new --image ${WORK}/other.db --profile testing)
else()
  message(FATAL_ERROR "unknown CASE ${CASE}")
endif()
