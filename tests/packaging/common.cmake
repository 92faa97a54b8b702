# Helpers shared by the packaging test drivers (each driver runs as `cmake -P`).
# tests/packaging.cmake passes every driver the same description of the build:
#   LOWPREC_SOURCE_DIR LOWPREC_BINARY_DIR PROJECT_VERSION WORK_DIR
#   GENERATOR GENERATOR_PLATFORM GENERATOR_TOOLSET MAKE_PROGRAM MULTI_CONFIG BUILD_TYPE
#   CXX_COMPILER CXX_COMPILER_ID CONSUMER_CXX_FLAGS PKG_CONFIG_EXECUTABLE
#   LIBRARY_ARCHITECTURE EIGEN3_DIR HWY_DIR
# Every check ends in message(FATAL_ERROR) that says what was expected and what was seen.
cmake_minimum_required(VERSION 3.19)  # string(JSON)

foreach(_var LOWPREC_SOURCE_DIR PROJECT_VERSION WORK_DIR GENERATOR CXX_COMPILER)
  if(NOT DEFINED ${_var} OR "${${_var}}" STREQUAL "")
    message(FATAL_ERROR "packaging driver called without -D${_var}=...")
  endif()
endforeach()

# pkg_exec(<what> COMMAND <cmd...> [WORKING_DIRECTORY <dir>] [OUTPUT_VARIABLE <var>]
#          [EXPECT_FAIL])
# Runs a command; its output is shown only when the outcome is not the expected one.
function(pkg_exec what)
  cmake_parse_arguments(E "EXPECT_FAIL" "WORKING_DIRECTORY;OUTPUT_VARIABLE" "COMMAND" ${ARGN})
  if(NOT E_WORKING_DIRECTORY)
    set(E_WORKING_DIRECTORY "${WORK_DIR}")
  endif()
  execute_process(COMMAND ${E_COMMAND}
                  WORKING_DIRECTORY "${E_WORKING_DIRECTORY}"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  string(REPLACE ";" " " shown "${E_COMMAND}")
  if(E_EXPECT_FAIL AND rc EQUAL 0)
    message(FATAL_ERROR "${what}: expected to fail, but succeeded\n  ${shown}\n${out}")
  elseif(NOT E_EXPECT_FAIL AND NOT rc EQUAL 0)
    message(FATAL_ERROR "${what}: failed (${rc})\n  ${shown}\n${out}")
  endif()
  message(STATUS "ok: ${what}")
  if(E_OUTPUT_VARIABLE)
    set(${E_OUTPUT_VARIABLE} "${out}" PARENT_SCOPE)
  endif()
endfunction()

# The arguments that configure a consumer project like the build under test: same
# generator, compiler and configuration; our warning flags; no package registry, so a
# stray lowprec elsewhere on the machine cannot stand in for the one under test.
function(pkg_consumer_configure_args out)
  set(args -G "${GENERATOR}")
  if(GENERATOR_PLATFORM)
    list(APPEND args -A "${GENERATOR_PLATFORM}")
  endif()
  if(GENERATOR_TOOLSET)
    list(APPEND args -T "${GENERATOR_TOOLSET}")
  endif()
  if(MAKE_PROGRAM)
    list(APPEND args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
  endif()
  list(APPEND args
       "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
       "-DCMAKE_CXX_FLAGS=${CONSUMER_CXX_FLAGS}"
       -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
       -DCMAKE_EXPORT_COMPILE_COMMANDS=ON)
  if(NOT MULTI_CONFIG AND BUILD_TYPE)
    list(APPEND args "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}")
  endif()
  set(${out} "${args}" PARENT_SCOPE)
endfunction()

# pkg_consumer(<what> SOURCE <dir> BINARY <dir> [ARGS <-D...>] [RUN <exe> [RUN_ARGS ...]]
#              [CONFIGURE_FAILS <regex>] [OUTPUT_VARIABLE <var>])
# Configures, builds and runs a consumer project from scratch. With CONFIGURE_FAILS the
# configure must fail and its output must match <regex>.
function(pkg_consumer what)
  cmake_parse_arguments(C "" "SOURCE;BINARY;RUN;CONFIGURE_FAILS;OUTPUT_VARIABLE" "ARGS;RUN_ARGS" ${ARGN})
  file(REMOVE_RECURSE "${C_BINARY}")
  file(MAKE_DIRECTORY "${C_BINARY}")
  pkg_consumer_configure_args(common)
  if(DEFINED C_CONFIGURE_FAILS)
    pkg_exec("${what}: configure (must fail)" EXPECT_FAIL OUTPUT_VARIABLE out
             COMMAND "${CMAKE_COMMAND}" -S "${C_SOURCE}" -B "${C_BINARY}" ${common} ${C_ARGS})
    string(REGEX REPLACE "[ \t\r\n]+" " " flat "${out}")   # CMake wraps long messages
    if(NOT flat MATCHES "${C_CONFIGURE_FAILS}")
      message(FATAL_ERROR "${what}: configure failed, but without a message matching "
                          "'${C_CONFIGURE_FAILS}':\n${out}")
    endif()
    return()
  endif()
  pkg_exec("${what}: configure" OUTPUT_VARIABLE configure_out
           COMMAND "${CMAKE_COMMAND}" -S "${C_SOURCE}" -B "${C_BINARY}" ${common} ${C_ARGS})
  set(config_args "")
  if(BUILD_TYPE)
    set(config_args --config "${BUILD_TYPE}")
  endif()
  pkg_exec("${what}: build" COMMAND "${CMAKE_COMMAND}" --build "${C_BINARY}" ${config_args})
  set(run_out "")
  if(C_RUN)
    pkg_find_executable(exe "${C_BINARY}" "${C_RUN}")
    pkg_exec("${what}: run ${C_RUN}" OUTPUT_VARIABLE run_out COMMAND "${exe}" ${C_RUN_ARGS})
    message(STATUS "${run_out}")
  endif()
  if(C_OUTPUT_VARIABLE)
    set(${C_OUTPUT_VARIABLE} "${configure_out}${run_out}" PARENT_SCOPE)
  endif()
endfunction()

# The built executable <name> in <bindir> (single-config) or <bindir>/<config>.
function(pkg_find_executable out bindir name)
  foreach(candidate "${bindir}/${name}" "${bindir}/${BUILD_TYPE}/${name}"
                    "${bindir}/${name}.exe" "${bindir}/${BUILD_TYPE}/${name}.exe")
    if(EXISTS "${candidate}" AND NOT IS_DIRECTORY "${candidate}")
      set(${out} "${candidate}" PARENT_SCOPE)
      return()
    endif()
  endforeach()
  message(FATAL_ERROR "built executable '${name}' not found under ${bindir}")
endfunction()

# The value of a variable in a consumer's CMakeCache.txt.
function(pkg_cache_value out bindir var)
  file(STRINGS "${bindir}/CMakeCache.txt" lines REGEX "^${var}:[A-Z]+=")
  if(NOT lines)
    message(FATAL_ERROR "${var} is not in ${bindir}/CMakeCache.txt")
  endif()
  list(GET lines 0 line)
  string(REGEX REPLACE "^${var}:[A-Z]+=" "" value "${line}")
  set(${out} "${value}" PARENT_SCOPE)
endfunction()

# Fails unless <path> resolves to a location inside <dir>.
function(pkg_check_inside what path dir)
  file(REAL_PATH "${path}" real_path)
  file(REAL_PATH "${dir}" real_dir)
  string(FIND "${real_path}/" "${real_dir}/" at)
  if(NOT at EQUAL 0)
    message(FATAL_ERROR "${what}: ${real_path} is not inside ${real_dir}")
  endif()
endfunction()

# The consumer found lowprec in <prefix> and compiled against <prefix>'s headers.
function(pkg_check_found_in what bindir prefix)
  pkg_cache_value(dir "${bindir}" lowprec_DIR)
  pkg_check_inside("${what}: lowprec_DIR" "${dir}" "${prefix}")
  if(EXISTS "${bindir}/compile_commands.json")
    file(READ "${bindir}/compile_commands.json" commands)
    file(REAL_PATH "${prefix}/include" include_dir)
    string(FIND "${commands}" "${include_dir}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "${what}: the consumer was not compiled with ${include_dir}:\n${commands}")
    endif()
  endif()
endfunction()

# Every regular file below <dir>, relative to <dir>, sorted.
function(pkg_list_files out dir)
  file(GLOB_RECURSE files LIST_DIRECTORIES false RELATIVE "${dir}" "${dir}/*")
  list(SORT files)
  set(${out} "${files}" PARENT_SCOPE)
endfunction()

# <prefix>/<include_dir> holds exactly the files of the source tree's include/.
function(pkg_check_headers what include_dir)
  pkg_list_files(expected "${LOWPREC_SOURCE_DIR}/include")
  pkg_list_files(actual "${include_dir}")
  if(NOT expected)
    message(FATAL_ERROR "no headers under ${LOWPREC_SOURCE_DIR}/include")
  endif()
  set(missing ${expected})
  list(REMOVE_ITEM missing ${actual})
  set(extra ${actual})
  list(REMOVE_ITEM extra ${expected})
  if(missing OR extra)
    message(FATAL_ERROR "${what}: installed headers differ from include/\n"
                        "  missing: ${missing}\n  unexpected: ${extra}")
  endif()
  list(LENGTH actual n)
  message(STATUS "ok: ${what}: all ${n} headers of include/ are installed")
endfunction()

# No file below <dir> contains any of the strings in ARGN (absolute paths of the
# machine that built the package).
function(pkg_check_no_strings what dir)
  set(needles "")
  foreach(needle IN LISTS ARGN)
    if(NOT needle STREQUAL "")
      list(APPEND needles "${needle}")
      if(IS_ABSOLUTE "${needle}" AND EXISTS "${needle}")
        file(REAL_PATH "${needle}" real)   # /work may be a symlink
        list(APPEND needles "${real}")
      endif()
    endif()
  endforeach()
  list(REMOVE_DUPLICATES needles)
  pkg_list_files(files "${dir}")
  foreach(file IN LISTS files)
    file(READ "${dir}/${file}" content)
    foreach(needle IN LISTS needles)
      string(FIND "${content}" "${needle}" at)
      if(NOT at EQUAL -1)
        message(FATAL_ERROR "${what}: ${file} contains '${needle}': the package would only "
                            "work where it was built")
      endif()
    endforeach()
  endforeach()
  message(STATUS "ok: ${what}: no machine-specific path in any file")
endfunction()

# pkg-config finds lowprec in <prefix>, resolves its paths inside <prefix>, pulls in
# Eigen and Highway, and a program compiled with exactly those flags runs.
function(pkg_check_pkg_config what prefix pcdir workdir)
  if(NOT PKG_CONFIG_EXECUTABLE)
    message(FATAL_ERROR "pkg-config was not found when the build was configured")
  endif()
  set(ENV{PKG_CONFIG_PATH} "${prefix}/${pcdir}")
  set(pc "${PKG_CONFIG_EXECUTABLE}")
  pkg_exec("${what}: pkg-config --validate" COMMAND "${pc}" --validate lowprec)
  pkg_exec("${what}: pkg-config --modversion" OUTPUT_VARIABLE version COMMAND "${pc}" --modversion lowprec)
  string(STRIP "${version}" version)
  if(NOT version STREQUAL PROJECT_VERSION)
    message(FATAL_ERROR "${what}: lowprec.pc says version '${version}', the project is ${PROJECT_VERSION}")
  endif()
  pkg_exec("${what}: pkg-config --cflags" OUTPUT_VARIABLE cflags COMMAND "${pc}" --cflags lowprec)
  pkg_exec("${what}: pkg-config --libs" OUTPUT_VARIABLE libs COMMAND "${pc}" --libs lowprec)
  string(STRIP "${cflags}" cflags)
  string(STRIP "${libs}" libs)
  separate_arguments(cflags_list UNIX_COMMAND "${cflags}")
  separate_arguments(libs_list UNIX_COMMAND "${libs}")
  # The -I of lowprec itself points into <prefix> (through ${pcfiledir}).
  file(REAL_PATH "${prefix}/include" want_include)
  set(found_include FALSE)
  foreach(flag IN LISTS cflags_list)
    if(flag MATCHES "^-I(.+)$")
      file(REAL_PATH "${CMAKE_MATCH_1}" dir)
      if(dir STREQUAL want_include)
        set(found_include TRUE)
      endif()
    endif()
  endforeach()
  if(NOT found_include)
    message(FATAL_ERROR "${what}: 'pkg-config --cflags lowprec' = '${cflags}' has no -I for ${want_include}")
  endif()
  # Requires: eigen3 and libhwy come along (their Cflags and Libs).
  if(NOT cflags MATCHES "eigen3")
    message(FATAL_ERROR "${what}: --cflags '${cflags}' lacks Eigen's include directory (Requires: eigen3)")
  endif()
  if(NOT libs MATCHES "-lhwy")
    message(FATAL_ERROR "${what}: --libs '${libs}' lacks -lhwy (Requires: libhwy)")
  endif()
  if(NOT CXX_COMPILER_ID MATCHES "GNU|Clang")
    message(STATUS "${what}: compiler ${CXX_COMPILER_ID} takes no pkg-config flags; compile step skipped")
    return()
  endif()
  file(MAKE_DIRECTORY "${workdir}")
  separate_arguments(extra UNIX_COMMAND "${CONSUMER_CXX_FLAGS}")
  pkg_exec("${what}: compile with pkg-config flags" WORKING_DIRECTORY "${workdir}"
           COMMAND "${CXX_COMPILER}" -std=c++17 ${extra} ${cflags_list}
                   "-DLOWPREC_PACKAGE_VERSION=\"${version}\""
                   "${LOWPREC_SOURCE_DIR}/test_package/test_package.cpp"
                   -o "${workdir}/pkg_config_consumer" ${libs_list})
  pkg_exec("${what}: run" OUTPUT_VARIABLE out COMMAND "${workdir}/pkg_config_consumer")
  message(STATUS "${out}")
endfunction()

# Installs the build under test into <prefix> (replacing whatever was there).
function(pkg_install prefix)
  if(NOT LOWPREC_BINARY_DIR)
    message(FATAL_ERROR "packaging driver called without -DLOWPREC_BINARY_DIR=...")
  endif()
  file(REMOVE_RECURSE "${prefix}")
  set(config_args "")
  if(BUILD_TYPE)
    set(config_args --config "${BUILD_TYPE}")
  endif()
  # DESTDIR would send the files elsewhere.
  pkg_exec("cmake --install into ${prefix}"
           COMMAND "${CMAKE_COMMAND}" -E env --unset=DESTDIR
                   "${CMAKE_COMMAND}" --install "${LOWPREC_BINARY_DIR}" --prefix "${prefix}" ${config_args})
endfunction()

file(MAKE_DIRECTORY "${WORK_DIR}")
