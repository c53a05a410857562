# Driver of cli_commands_help_version_json: seam --version and seam version; --help of
# every command (usage on stdout, exit 0); seam card list --json with every byte value a
# hex string (seam gp --json is checked in gp_check.cmake). SEAM, APPS and WORK as usual.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})

# run(EXIT status OUT regex ARGS args...)
function(run)
  cmake_parse_arguments(PARSE_ARGV 0 r "" "EXIT;OUT" "ARGS")
  execute_process(COMMAND ${SEAM} ${r_ARGS} RESULT_VARIABLE status OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  if(NOT status EQUAL r_EXIT OR NOT out MATCHES "${r_OUT}")
    message(FATAL_ERROR "seam ${r_ARGS}: exit ${status} (expected ${r_EXIT}), stdout does not "
                        "match '${r_OUT}' or did:\n${out}${err}")
  endif()
  set(run_out "${out}" PARENT_SCOPE)
endfunction()

run(EXIT 0 OUT "^seam [0-9]+\\.[0-9]+\\.[0-9]+( \\(git [0-9a-f]+(-dirty)?\\))?\n$" ARGS --version)
set(first "${run_out}")
run(EXIT 0 OUT "^seam [0-9]" ARGS version)
if(NOT run_out STREQUAL first)
  message(FATAL_ERROR "seam version and seam --version differ:\n${first}${run_out}")
endif()
run(EXIT 0 OUT "seam version" ARGS --help)
foreach(command "wasm spec" "wasm run" "card new" "card serve" "card script" "card list" "gp"
                "version")
  separate_arguments(words UNIX_COMMAND "${command}")
  run(EXIT 0 OUT "^usage: seam ${command}" ARGS ${words} --help)
endforeach()
run(EXIT 0 OUT "seam card new.*seam card list" ARGS card --help)

# seam card list --json: byte values as hex strings, counts as numbers
run(EXIT 0 OUT "Created card" ARGS card new --image ${WORK}/card.db)
run(EXIT 0 OUT "installed" ARGS gp --image ${WORK}/card.db install ${APPS}/hello.wasm)
run(EXIT 0 OUT "^{" ARGS card list --image ${WORK}/card.db --json)
set(json "${run_out}")
foreach(check "card;lifecycle=0F" "card;state=SECURED" "security_domains;0;lifecycle=0F"
              "security_domains;0;key_versions;0=30" "security_domains;0;privileges=9EFE80"
              "packages;0;version=0100" "packages;0;space=01" "instances;0;lifecycle=07"
              "instances;0;state=SELECTABLE" "instances;0;privileges=000000")
  string(REPLACE "=" ";" parts "${check}")
  list(POP_BACK parts want)
  string(JSON got ERROR_VARIABLE bad GET "${json}" ${parts})
  string(JSON type ERROR_VARIABLE bad TYPE "${json}" ${parts})
  if(bad OR NOT got STREQUAL want OR NOT type STREQUAL "STRING")
    message(FATAL_ERROR "card list --json: ${parts} is ${got} (${type}), expected the string ${want} ${bad}\n${json}")
  endif()
endforeach()
string(JSON size TYPE "${json}" packages 0 size)
string(JSON used TYPE "${json}" nvm used)
if(NOT size STREQUAL "NUMBER" OR NOT used STREQUAL "NUMBER")
  message(FATAL_ERROR "card list --json: sizes are numbers of bytes:\n${json}")
endif()
