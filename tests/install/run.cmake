# The installed-package test: install the already-built tree at BUILD_DIR into WORK_DIR/prefix,
# then build tests/install as a separate project against it, once with find_package(edist)
# and once with `pkg-config --cflags --libs edist`, and run both programs.
#
#   cmake -DSOURCE_DIR=<edist> -DBUILD_DIR=<build tree> -DWORK_DIR=<scratch> -P run.cmake
foreach(var SOURCE_DIR BUILD_DIR WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run.cmake needs -D${var}=...")
  endif()
endforeach()

set(prefix ${WORK_DIR}/prefix)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${ARGN}\n${out}")
  endif()
  message(STATUS "${what}: ok")
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

# Build the consumer with what the library was built with: the same compiler, and the same
# sanitizers, without which a sanitized static library cannot be linked.
file(STRINGS ${BUILD_DIR}/CMakeCache.txt cache REGEX "^(CMAKE_CXX_COMPILER|EDIST_SANITIZE|CMAKE_GENERATOR):")
set(CMAKE_CXX_COMPILER c++)
set(EDIST_SANITIZE "")
set(CMAKE_GENERATOR "Unix Makefiles")
foreach(line ${cache})
  string(REGEX MATCH "^([A-Z_]+):[A-Z]+=(.*)$" _ "${line}")
  set(${CMAKE_MATCH_1} "${CMAKE_MATCH_2}")
endforeach()
set(extra_flags "")
if(EDIST_SANITIZE)
  set(extra_flags "-fsanitize=${EDIST_SANITIZE}")
endif()

run_step("cmake --install ${BUILD_DIR}" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

# 1. find_package(edist) with CMAKE_PREFIX_PATH.
run_step("configure the consumer"
         ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/install -B ${WORK_DIR}/build -G ${CMAKE_GENERATOR}
         -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_PREFIX_PATH=${prefix}
         -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER} "-DCMAKE_CXX_FLAGS=${extra_flags}")
run_step("build the consumer" ${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run_step("run the consumer (find_package)" ${WORK_DIR}/build/consumer)
message(STATUS "  ${step_output}")

# 2. pkg-config, as a Makefile would.
find_program(PKG_CONFIG pkg-config REQUIRED)
file(GLOB_RECURSE pc_files ${prefix}/*/edist.pc)
if(NOT pc_files)
  message(FATAL_ERROR "cmake --install put no edist.pc under ${prefix}")
endif()
list(GET pc_files 0 pc_file)
get_filename_component(pc_dir ${pc_file} DIRECTORY)
set(ENV{PKG_CONFIG_PATH} ${pc_dir})
run_step("pkg-config --cflags --libs edist" ${PKG_CONFIG} --cflags --libs edist)
string(STRIP "${step_output}" pc_flags)
separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
separate_arguments(extra_flags UNIX_COMMAND "${extra_flags}")
run_step("compile the consumer with pkg-config's flags"
         ${CMAKE_CXX_COMPILER} ${extra_flags} ${SOURCE_DIR}/tests/install/main.cpp -o ${WORK_DIR}/consumer-pc ${pc_flags})
run_step("run the consumer (pkg-config)" ${WORK_DIR}/consumer-pc)
message(STATUS "  ${step_output}")
