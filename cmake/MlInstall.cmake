# Installation of libmemberlist: the shared and the static library, the C header, the C++
# wrapper, pkg-config files (memberlist: the shared library, Libs.private for --static;
# memberlist-static: libmemberlist.a with the system libraries shared), a CMake package
# (memberlist::memberlist, memberlist::memberlist_static), the C example ml_example and the user
# documentation.
# Install components (the Debian packages of cmake/MlPackage.cmake follow them): "runtime" is
# libmemberlist.so.0; "dev" is everything else. Also writes pkg-config files for the build
# tree, ${CMAKE_BINARY_DIR}/pkgconfig/memberlist{,-static}.pc, so that Go (`#cgo pkg-config: memberlist`,
# PKG_CONFIG_PATH=<build>/pkgconfig) and other consumers can use an uninstalled build.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(ML_CMAKE_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/memberlist)

install(TARGETS memberlist EXPORT memberlistTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${ML_STATIC_LIB} DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)  # cmake/MlStatic.cmake
# `cmake --install --strip` (and CPack's CPACK_STRIP_FILES) strip the libraries and programs
# installed with install(TARGETS); the archive's debug sections go the same way.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(_ml_static_dest "${CMAKE_INSTALL_LIBDIR}/libmemberlist.a")
else()
  set(_ml_static_dest "\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/libmemberlist.a")
endif()
install(CODE "
  if(CMAKE_INSTALL_DO_STRIP)
    execute_process(COMMAND \"${CMAKE_STRIP}\" --strip-debug \"\$ENV{DESTDIR}${_ml_static_dest}\"
                    RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR \"strip --strip-debug libmemberlist.a failed\")
    endif()
  endif()
" COMPONENT dev)
install(FILES ${PROJECT_SOURCE_DIR}/capi/include/memberlist/memberlist.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/memberlist COMPONENT dev)
install(FILES ${PROJECT_SOURCE_DIR}/bindings/cpp/memberlist.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        COMPONENT dev)
install(EXPORT memberlistTargets NAMESPACE memberlist:: DESTINATION ${ML_CMAKE_INSTALL_DIR}
        FILE memberlistTargets.cmake COMPONENT dev)

# The documents a user of the library reads, and the C example's source (examples/CMakeLists.txt
# installs the program). The Go CLI `memberlist` and its systemd unit: cmake/MlGoCli.cmake.
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/c-api.md ${PROJECT_SOURCE_DIR}/docs/config.md
              ${PROJECT_SOURCE_DIR}/docs/protocol.md ${PROJECT_SOURCE_DIR}/docs/wire-notes.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT dev)
install(FILES ${PROJECT_SOURCE_DIR}/examples/ml_example.c DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples COMPONENT dev)

set(ML_STATIC_LINK_LIBS "uv;crypto;z;stdc++;m;pthread")  # as ML_PC_LIBS_PRIVATE below
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/memberlistConfig.cmake.in
  ${CMAKE_BINARY_DIR}/cmake/memberlistConfig.cmake INSTALL_DESTINATION ${ML_CMAKE_INSTALL_DIR}
  PATH_VARS CMAKE_INSTALL_LIBDIR CMAKE_INSTALL_INCLUDEDIR)
# 0.x: a minor version may break the API, so only the same major.minor is compatible.
write_basic_package_version_file(${CMAKE_BINARY_DIR}/cmake/memberlistConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/cmake/memberlistConfig.cmake ${CMAKE_BINARY_DIR}/cmake/memberlistConfigVersion.cmake
        DESTINATION ${ML_CMAKE_INSTALL_DIR} COMPONENT dev)

# pkg-config, installed: paths relative to ${prefix} (so `cmake --install --prefix` relocates).
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(ML_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  set(ML_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(ML_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(ML_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
set(ML_PC_PREFIX "@ML_INSTALL_PREFIX@")  # filled in at install time, for the real prefix
# What libmemberlist.a needs besides itself (the shared library records it as DT_NEEDED); the same
# list as ML_STATIC_LINK_LIBS of the CMake package.
set(ML_PC_LIBS_PRIVATE "-luv -lcrypto -lz -lstdc++ -lm -lpthread")
# The prefix is known only at install time (`cmake --install --prefix`, CPack's /usr): install(CODE)
# fills it in, into a file of its own per install (installs may run concurrently), and installs
# that with file(INSTALL), which honours DESTDIR and the install manifest.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(_ml_pc_dest "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
else()
  set(_ml_pc_dest "\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig")
endif()
foreach(pc memberlist memberlist-static)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/${pc}.pc.in ${CMAKE_BINARY_DIR}/cmake/${pc}.pc @ONLY)
  install(CODE "
    file(READ \"${CMAKE_BINARY_DIR}/cmake/${pc}.pc\" text)
    string(REPLACE \"@ML_INSTALL_PREFIX@\" \"\${CMAKE_INSTALL_PREFIX}\" text \"\${text}\")
    string(RANDOM LENGTH 12 tag)
    set(staged \"${CMAKE_BINARY_DIR}/cmake/pc-\${tag}/${pc}.pc\")
    file(WRITE \"\${staged}\" \"\${text}\")
    file(INSTALL DESTINATION \"${_ml_pc_dest}\" TYPE FILE FILES \"\${staged}\")
    file(REMOVE_RECURSE \"${CMAKE_BINARY_DIR}/cmake/pc-\${tag}\")
  " COMPONENT dev)
endforeach()

# pkg-config, build tree: the headers in the source tree, the library where it was built, and
# an rpath to it (so programs run without LD_LIBRARY_PATH).
file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/pkgconfig/memberlist.pc CONTENT
"prefix=${CMAKE_BINARY_DIR}
libdir=$<TARGET_FILE_DIR:memberlist>
includedir=${PROJECT_SOURCE_DIR}/capi/include

Name: memberlist
Description: ${PROJECT_DESCRIPTION} (build tree)
Version: ${PROJECT_VERSION}
Cflags: -I\${includedir} -I${PROJECT_SOURCE_DIR}/bindings/cpp
Libs: -L\${libdir} -lmemberlist -Wl,-rpath,\${libdir}
Libs.private: ${ML_PC_LIBS_PRIVATE}
")
file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/pkgconfig/memberlist-static.pc CONTENT
"prefix=${CMAKE_BINARY_DIR}
libdir=$<TARGET_FILE_DIR:memberlist>
includedir=${PROJECT_SOURCE_DIR}/capi/include

Name: memberlist-static
Description: ${PROJECT_DESCRIPTION} (build tree; libmemberlist.a, system libraries shared)
Version: ${PROJECT_VERSION}
Cflags: -I\${includedir} -I${PROJECT_SOURCE_DIR}/bindings/cpp
Libs: ${ML_STATIC_LIB} ${ML_PC_LIBS_PRIVATE}
")
