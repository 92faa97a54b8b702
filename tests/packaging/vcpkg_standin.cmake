# packaging_vcpkg_port*: ports/lowprec/portfile.cmake executed offline, through stand-ins
# for the vcpkg_* helpers it calls. The stand-ins do what vcpkg does where it matters to
# the result (really configure and install into CURRENT_PACKAGES_DIR, move the CMake
# package to share/<port> and correct its prefix computation, write the copyright) and
# are stricter than vcpkg where vcpkg would only warn (unknown arguments, options the
# project does not use). Then vcpkg's post-build checks that apply to this port, the
# package layout, and a consumer built from the usage file against the installed tree.
#
#   MODE github   the port as published: vcpkg_from_github (here: this checkout)
#   MODE local    LOWPREC_SOURCE_PATH set by a triplet: vcpkg_from_github must not run
include("${CMAKE_CURRENT_LIST_DIR}/common.cmake")

set(PORT_DIR "${LOWPREC_SOURCE_DIR}/ports/lowprec")

# ---- vcpkg.json -------------------------------------------------------------------
file(READ "${PORT_DIR}/vcpkg.json" manifest)
string(JSON PORT GET "${manifest}" name)        # string(JSON) fails on malformed JSON
if(NOT PORT STREQUAL "lowprec")
  message(FATAL_ERROR "vcpkg.json: name is '${PORT}', expected lowprec")
endif()
string(JSON VERSION ERROR_VARIABLE no_version GET "${manifest}" version)
if(no_version)
  message(FATAL_ERROR "vcpkg.json: no \"version\" field (${no_version})")
endif()
if(NOT VERSION STREQUAL PROJECT_VERSION)
  message(FATAL_ERROR "vcpkg.json: version ${VERSION}, but CMakeLists.txt says ${PROJECT_VERSION}")
endif()
foreach(field description homepage license)
  string(JSON value ERROR_VARIABLE missing GET "${manifest}" ${field})
  if(missing OR value STREQUAL "")
    message(FATAL_ERROR "vcpkg.json: \"${field}\" is missing or empty")
  endif()
endforeach()
# dependencies: name -> host flag
string(JSON n_deps LENGTH "${manifest}" dependencies)
set(deps "")
math(EXPR last "${n_deps} - 1")
foreach(i RANGE ${last})
  string(JSON type TYPE "${manifest}" dependencies ${i})
  set(host OFF)
  if(type STREQUAL "STRING")
    string(JSON name GET "${manifest}" dependencies ${i})
  else()
    string(JSON name GET "${manifest}" dependencies ${i} name)
    string(JSON host ERROR_VARIABLE no_host GET "${manifest}" dependencies ${i} host)
    if(no_host)
      set(host OFF)
    endif()
  endif()
  list(APPEND deps ${name})
  set(host_${name} ${host})
endforeach()
foreach(dep eigen3 highway vcpkg-cmake vcpkg-cmake-config)
  if(NOT dep IN_LIST deps)
    message(FATAL_ERROR "vcpkg.json: dependency ${dep} is missing (have: ${deps})")
  endif()
endforeach()
foreach(dep vcpkg-cmake vcpkg-cmake-config)
  if(NOT host_${dep})
    message(FATAL_ERROR "vcpkg.json: ${dep} is a build tool and must be a host dependency (\"host\": true)")
  endif()
endforeach()
foreach(dep eigen3 highway)
  if(host_${dep})
    message(FATAL_ERROR "vcpkg.json: ${dep} is a target library, not a host dependency")
  endif()
endforeach()
message(STATUS "ok: vcpkg.json: ${PORT} ${VERSION}, dependencies ${deps}")

# ---- the environment vcpkg gives a portfile (x64-linux triplet) ----------------------
set(TARGET_TRIPLET x64-linux)
set(VCPKG_TARGET_ARCHITECTURE x64)
set(VCPKG_CMAKE_SYSTEM_NAME Linux)
set(VCPKG_LIBRARY_LINKAGE static)
set(VCPKG_CRT_LINKAGE dynamic)
set(VCPKG_TARGET_IS_LINUX ON)
set(CURRENT_PORT_DIR "${PORT_DIR}")
set(VCPKG_ROOT_DIR "${WORK_DIR}/vcpkg-root")
set(DOWNLOADS "${VCPKG_ROOT_DIR}/downloads")
set(CURRENT_BUILDTREES_DIR "${VCPKG_ROOT_DIR}/buildtrees/${PORT}")
set(CURRENT_PACKAGES_DIR "${VCPKG_ROOT_DIR}/packages/${PORT}_${TARGET_TRIPLET}")
set(CURRENT_INSTALLED_DIR "${VCPKG_ROOT_DIR}/installed/${TARGET_TRIPLET}")
file(REMOVE_RECURSE "${VCPKG_ROOT_DIR}")
file(MAKE_DIRECTORY "${DOWNLOADS}" "${CURRENT_BUILDTREES_DIR}" "${CURRENT_PACKAGES_DIR}"
                    "${CURRENT_INSTALLED_DIR}")
if(MODE STREQUAL "local")
  set(LOWPREC_SOURCE_PATH "${LOWPREC_SOURCE_DIR}")   # as a custom triplet would
elseif(NOT MODE STREQUAL "github")
  message(FATAL_ERROR "unknown MODE '${MODE}'")
endif()

# ---- stand-ins -----------------------------------------------------------------------
# Strict argument parsing: an argument vcpkg does not know is an error here.
macro(_standin_parse fn options one multi)
  cmake_parse_arguments(PARSE_ARGV 0 arg "${options}" "${one}" "${multi}")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "${fn}: unknown arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
endmacro()

function(vcpkg_from_github)
  _standin_parse(vcpkg_from_github "USE_TARBALL_API;USE_GIT_API"
    "OUT_SOURCE_PATH;REPO;REF;SHA512;HEAD_REF;GITHUB_HOST;AUTHORIZATION_TOKEN;FILE_DISAMBIGUATOR"
    "PATCHES")
  if(MODE STREQUAL "local")
    message(FATAL_ERROR "vcpkg_from_github was called although LOWPREC_SOURCE_PATH is set")
  endif()
  foreach(required OUT_SOURCE_PATH REPO REF SHA512)
    if(NOT DEFINED arg_${required} OR arg_${required} STREQUAL "")
      message(FATAL_ERROR "vcpkg_from_github: ${required} is required")
    endif()
  endforeach()
  if(NOT arg_REPO MATCHES "^[^/]+/[^/]+$")
    message(FATAL_ERROR "vcpkg_from_github: REPO must be owner/name, got ${arg_REPO}")
  endif()
  string(FIND "${arg_REF}" "${VERSION}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "vcpkg_from_github: REF ${arg_REF} does not name version ${VERSION}: "
                        "the port would build another release than vcpkg.json announces")
  endif()
  # Offline: the archive's contents are this checkout.
  set(${arg_OUT_SOURCE_PATH} "${LOWPREC_SOURCE_DIR}" PARENT_SCOPE)
  set_property(GLOBAL PROPERTY standin_from_github_called TRUE)
endfunction()

# Arguments vcpkg itself gives every CMake project (vcpkg-cmake's configure), minus the
# toolchain: dependencies come from this machine.
set(_standin_vcpkg_cmake_args
  -DCMAKE_INSTALL_LIBDIR:STRING=lib
  -DCMAKE_INSTALL_BINDIR:STRING=bin
  -DFETCHCONTENT_FULLY_DISCONNECTED=ON
  -DCMAKE_EXPORT_NO_PACKAGE_REGISTRY=ON
  -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)

function(vcpkg_cmake_configure)
  _standin_parse(vcpkg_cmake_configure
    "PREFER_NINJA;DISABLE_PARALLEL_CONFIGURE;WINDOWS_USE_MSBUILD;NO_CHARSET_FLAG;Z_CMAKE_GET_VARS_USAGE"
    "SOURCE_PATH;GENERATOR;LOGFILE_BASE"
    "OPTIONS;OPTIONS_DEBUG;OPTIONS_RELEASE;MAYBE_UNUSED_VARIABLES")
  if(NOT EXISTS "${arg_SOURCE_PATH}/CMakeLists.txt")
    message(FATAL_ERROR "vcpkg_cmake_configure: no CMakeLists.txt in SOURCE_PATH '${arg_SOURCE_PATH}'")
  endif()
  set(configs release)
  if(NOT VCPKG_BUILD_TYPE)
    list(APPEND configs debug)
  elseif(NOT VCPKG_BUILD_TYPE STREQUAL "release")
    message(FATAL_ERROR "VCPKG_BUILD_TYPE is '${VCPKG_BUILD_TYPE}'")
  endif()
  pkg_consumer_configure_args(common)
  foreach(config IN LISTS configs)
    if(config STREQUAL "release")
      set(dir "${CURRENT_BUILDTREES_DIR}/${TARGET_TRIPLET}-rel")
      set(prefix "${CURRENT_PACKAGES_DIR}")
      set(build_type Release)
      set(extra ${arg_OPTIONS_RELEASE})
    else()
      set(dir "${CURRENT_BUILDTREES_DIR}/${TARGET_TRIPLET}-dbg")
      set(prefix "${CURRENT_PACKAGES_DIR}/debug")
      set(build_type Debug)
      set(extra ${arg_OPTIONS_DEBUG})
    endif()
    file(REMOVE_RECURSE "${dir}")
    pkg_exec("vcpkg_cmake_configure (${config})" OUTPUT_VARIABLE out
             COMMAND "${CMAKE_COMMAND}" -S "${arg_SOURCE_PATH}" -B "${dir}" ${common}
                     "-DCMAKE_BUILD_TYPE=${build_type}" "-DCMAKE_INSTALL_PREFIX=${prefix}"
                     ${_standin_vcpkg_cmake_args} ${arg_OPTIONS} ${extra})
    # vcpkg warns about options the project never read; an option the port sets that
    # the project ignores is a renamed or misspelt option, so here it is an error.
    if(out MATCHES "Manually-specified variables were not used by the project:\n\n(([ ]+[^\n]+\n)+)")
      string(REGEX MATCHALL "[A-Za-z0-9_]+" unused "${CMAKE_MATCH_1}")
      set(port_vars "")
      foreach(option IN LISTS arg_OPTIONS extra)
        if(option MATCHES "^-D([A-Za-z0-9_]+)")
          list(APPEND port_vars ${CMAKE_MATCH_1})
        endif()
      endforeach()
      foreach(var IN LISTS unused)
        if(var IN_LIST port_vars AND NOT var IN_LIST arg_MAYBE_UNUSED_VARIABLES)
          message(FATAL_ERROR "vcpkg_cmake_configure: the project does not use ${var}, "
                              "which the portfile sets")
        endif()
      endforeach()
    endif()
    set_property(GLOBAL APPEND PROPERTY standin_configured_dirs "${dir}")
  endforeach()
endfunction()

function(vcpkg_cmake_install)
  _standin_parse(vcpkg_cmake_install "DISABLE_PARALLEL;ADD_BIN_TO_PATH" "" "")
  get_property(dirs GLOBAL PROPERTY standin_configured_dirs)
  if(NOT dirs)
    message(FATAL_ERROR "vcpkg_cmake_install before vcpkg_cmake_configure")
  endif()
  foreach(dir IN LISTS dirs)
    pkg_exec("vcpkg_cmake_install (${dir})"
             COMMAND "${CMAKE_COMMAND}" -E env --unset=DESTDIR
                     "${CMAKE_COMMAND}" --build "${dir}" --target install)
  endforeach()
endfunction()

# vcpkg wants a package's CMake files in share/<name>, found two levels below the
# prefix. It moves them there and rewrites the generated prefix computations (the
# export's _IMPORT_PREFIX steps, PACKAGE_INIT's PACKAGE_PREFIX_DIR) to go up two levels.
function(vcpkg_cmake_config_fixup)
  _standin_parse(vcpkg_cmake_config_fixup "DO_NOT_DELETE_PARENT_CONFIG_PATH;NO_PREFIX_CORRECTION"
                 "PACKAGE_NAME;CONFIG_PATH;TOOLS_PATH" "")
  if(NOT arg_PACKAGE_NAME)
    set(arg_PACKAGE_NAME "${PORT}")
  endif()
  if(NOT arg_CONFIG_PATH)
    set(arg_CONFIG_PATH "share/${arg_PACKAGE_NAME}")
  endif()
  set(share "${CURRENT_PACKAGES_DIR}/share/${arg_PACKAGE_NAME}")
  set(prefixes "${CURRENT_PACKAGES_DIR}")
  if(NOT VCPKG_BUILD_TYPE)
    list(APPEND prefixes "${CURRENT_PACKAGES_DIR}/debug")
  endif()
  foreach(prefix IN LISTS prefixes)
    set(from "${prefix}/${arg_CONFIG_PATH}")
    if(NOT IS_DIRECTORY "${from}")
      message(FATAL_ERROR "vcpkg_cmake_config_fixup: '${from}' does not exist")
    endif()
    if(prefix STREQUAL CURRENT_PACKAGES_DIR)
      set(to "${share}")
    else()
      set(to "${prefix}/share/${arg_PACKAGE_NAME}")
    endif()
    if(NOT arg_CONFIG_PATH STREQUAL "share/${arg_PACKAGE_NAME}")
      file(GLOB files "${from}/*")
      file(MAKE_DIRECTORY "${to}")
      file(COPY ${files} DESTINATION "${to}")
      file(REMOVE_RECURSE "${from}")
      if(NOT arg_DO_NOT_DELETE_PARENT_CONFIG_PATH)
        get_filename_component(parent "${from}" DIRECTORY)
        file(GLOB left "${parent}/*")
        if(NOT left AND NOT parent STREQUAL prefix)
          file(REMOVE_RECURSE "${parent}")
        endif()
      endif()
    endif()
  endforeach()
  # Debug builds contribute only their *-debug.cmake import files.
  if(NOT VCPKG_BUILD_TYPE)
    file(GLOB debug_imports "${CURRENT_PACKAGES_DIR}/debug/share/${arg_PACKAGE_NAME}/*-debug.cmake")
    if(debug_imports)
      file(COPY ${debug_imports} DESTINATION "${share}")
    endif()
    file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/debug/share")
  endif()
  if(NOT arg_NO_PREFIX_CORRECTION)
    file(GLOB_RECURSE cmake_files "${share}/*.cmake")
    foreach(file IN LISTS cmake_files)
      file(READ "${file}" text)
      set(up [[get_filename_component(_IMPORT_PREFIX "${_IMPORT_PREFIX}" PATH)]])
      string(REGEX REPLACE
        "(get_filename_component\\(_IMPORT_PREFIX \"\\\${CMAKE_CURRENT_LIST_FILE}\" PATH\\))(\nget_filename_component\\(_IMPORT_PREFIX \"\\\${_IMPORT_PREFIX}\" PATH\\))*"
        "\\1\n${up}\n${up}" text "${text}")
      string(REGEX REPLACE
        "get_filename_component\\(PACKAGE_PREFIX_DIR \"\\\${CMAKE_CURRENT_LIST_DIR}/\\.\\./(\\.\\./)*\" ABSOLUTE\\)"
        "get_filename_component(PACKAGE_PREFIX_DIR \"\${CMAKE_CURRENT_LIST_DIR}/../../\" ABSOLUTE)"
        text "${text}")
      file(WRITE "${file}" "${text}")
    endforeach()
  endif()
  set_property(GLOBAL PROPERTY standin_fixup_called TRUE)
endfunction()

# vcpkg points each .pc file's prefix at ${pcfiledir} and forbids absolute paths.
function(vcpkg_fixup_pkgconfig)
  _standin_parse(vcpkg_fixup_pkgconfig "SKIP_CHECK" "" "RELEASE_FILES;DEBUG_FILES;SYSTEM_LIBRARIES")
  file(GLOB pc_files "${CURRENT_PACKAGES_DIR}/lib/pkgconfig/*.pc" "${CURRENT_PACKAGES_DIR}/share/pkgconfig/*.pc")
  foreach(pc IN LISTS pc_files)
    get_filename_component(pc_dir "${pc}" DIRECTORY)
    file(RELATIVE_PATH to_prefix "${pc_dir}" "${CURRENT_PACKAGES_DIR}")
    string(REGEX REPLACE "/$" "" to_prefix "${to_prefix}")
    file(READ "${pc}" text)
    string(REPLACE "${CURRENT_PACKAGES_DIR}" "\${prefix}" text "${text}")
    string(REGEX REPLACE "\nprefix=[^\n]*" "\nprefix=\${pcfiledir}/${to_prefix}" text "\n${text}")
    string(SUBSTRING "${text}" 1 -1 text)
    file(WRITE "${pc}" "${text}")
  endforeach()
endfunction()

function(vcpkg_install_copyright)
  _standin_parse(vcpkg_install_copyright "" "COMMENT" "FILE_LIST")
  if(NOT arg_FILE_LIST)
    message(FATAL_ERROR "vcpkg_install_copyright: FILE_LIST is required")
  endif()
  set(text "")
  foreach(file IN LISTS arg_FILE_LIST)
    if(NOT EXISTS "${file}")
      message(FATAL_ERROR "vcpkg_install_copyright: ${file} does not exist (a package must ship its license)")
    endif()
    file(READ "${file}" content)
    string(APPEND text "${content}")
  endforeach()
  if(arg_COMMENT)
    set(text "${arg_COMMENT}\n\n${text}")
  endif()
  file(WRITE "${CURRENT_PACKAGES_DIR}/share/${PORT}/copyright" "${text}")
endfunction()

# ---- run the portfile ------------------------------------------------------------------
# A port sees its own location as CMAKE_CURRENT_LIST_DIR (for the usage file).
include("${PORT_DIR}/portfile.cmake")

get_property(from_github GLOBAL PROPERTY standin_from_github_called)
if(MODE STREQUAL "github" AND NOT from_github)
  message(FATAL_ERROR "the portfile did not call vcpkg_from_github")
endif()
get_property(fixup GLOBAL PROPERTY standin_fixup_called)
if(NOT fixup)
  message(FATAL_ERROR "the portfile did not call vcpkg_cmake_config_fixup")
endif()

# ---- vcpkg's post-build checks that apply to a header-only port ------------------------
set(pkg "${CURRENT_PACKAGES_DIR}")
foreach(file share/${PORT}/copyright share/${PORT}/usage share/${PORT}/lowprecConfig.cmake
             share/${PORT}/lowprecConfigVersion.cmake share/${PORT}/lowprecTargets.cmake
             share/${PORT}/lowprecDependencies.cmake include/lowprec/bf16.hpp)
  if(NOT EXISTS "${pkg}/${file}")
    message(FATAL_ERROR "the package lacks ${file}")
  endif()
endforeach()
pkg_check_headers("vcpkg package" "${pkg}/include")
foreach(dir debug lib/cmake share/cmake cmake bin lib)
  if(EXISTS "${pkg}/${dir}")
    if(dir STREQUAL "lib")
      file(GLOB lib_entries RELATIVE "${pkg}/lib" "${pkg}/lib/*")
      if(lib_entries STREQUAL "pkgconfig")
        continue()
      endif()
    endif()
    message(FATAL_ERROR "the package has ${dir}/: a header-only port must not (vcpkg rejects "
                        "CMake files outside share/<port>, and debug/ or binaries in a header-only package)")
  endif()
endforeach()
file(GLOB_RECURSE all_dirs LIST_DIRECTORIES true "${pkg}/*")
foreach(dir IN LISTS all_dirs)
  if(IS_DIRECTORY "${dir}")
    file(GLOB entries "${dir}/*")
    if(NOT entries)
      message(FATAL_ERROR "empty directory in the package: ${dir} (vcpkg rejects those)")
    endif()
  endif()
endforeach()
pkg_check_no_strings("vcpkg package" "${pkg}" "${CURRENT_PACKAGES_DIR}" "${CURRENT_INSTALLED_DIR}"
                     "${CURRENT_BUILDTREES_DIR}" "${LOWPREC_SOURCE_DIR}" "${WORK_DIR}")
message(STATUS "ok: package layout and post-build checks")

# ---- `vcpkg install` copies the package into installed/<triplet> -----------------------
file(COPY "${pkg}/" DESTINATION "${CURRENT_INSTALLED_DIR}")

# A consumer written from the usage file: its indented CMake lines, verbatim, in a
# project whose executable is called `main` as the usage text assumes.
file(STRINGS "${pkg}/share/${PORT}/usage" usage_lines REGEX "^    [a-z_]+\\(")
if(NOT usage_lines)
  message(FATAL_ERROR "share/${PORT}/usage shows no CMake lines")
endif()
set(consumer "${WORK_DIR}/usage-consumer")
file(REMOVE_RECURSE "${consumer}")
string(JOIN "\n" usage_cmake ${usage_lines})
file(WRITE "${consumer}/CMakeLists.txt"
  "cmake_minimum_required(VERSION 3.16)\n"
  "project(usage_consumer LANGUAGES CXX)\n"
  "add_executable(main \"${LOWPREC_SOURCE_DIR}/test_package/test_package.cpp\")\n"
  "${usage_cmake}\n")
# vcpkg's toolchain puts installed/<triplet> on CMAKE_PREFIX_PATH.
pkg_consumer("consumer from usage" SOURCE "${consumer}" BINARY "${WORK_DIR}/usage-consumer-build"
             ARGS "-DCMAKE_PREFIX_PATH=${CURRENT_INSTALLED_DIR}" RUN main)
pkg_check_found_in("consumer from usage" "${WORK_DIR}/usage-consumer-build" "${CURRENT_INSTALLED_DIR}")
pkg_cache_value(dir "${WORK_DIR}/usage-consumer-build" lowprec_DIR)
file(REAL_PATH "${dir}" dir)
file(REAL_PATH "${CURRENT_INSTALLED_DIR}/share/${PORT}" want)
if(NOT dir STREQUAL want)
  message(FATAL_ERROR "the consumer found lowprec in ${dir}, not in ${want}")
endif()

if(PKG_CONFIG_EXECUTABLE)
  file(GLOB pc_dirs RELATIVE "${CURRENT_INSTALLED_DIR}" "${CURRENT_INSTALLED_DIR}/*/pkgconfig")
  if(NOT pc_dirs)
    message(FATAL_ERROR "the package has no pkgconfig directory")
  endif()
  list(GET pc_dirs 0 pc_dir)
  pkg_check_pkg_config("vcpkg pkg-config" "${CURRENT_INSTALLED_DIR}" "${pc_dir}" "${WORK_DIR}/pc")
endif()
