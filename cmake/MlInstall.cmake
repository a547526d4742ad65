# Installation of libmemberlist: the shared library, the C header, the C++ wrapper, a pkg-config
# file and a CMake package (memberlist::memberlist). Also writes a pkg-config file for the build
# tree, ${CMAKE_BINARY_DIR}/pkgconfig/memberlist.pc, so that Go (`#cgo pkg-config: memberlist`,
# PKG_CONFIG_PATH=<build>/pkgconfig) and other consumers can use an uninstalled build.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(ML_CMAKE_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/memberlist)

install(TARGETS memberlist EXPORT memberlistTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_SOURCE_DIR}/capi/include/memberlist/memberlist.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/memberlist)
install(FILES ${PROJECT_SOURCE_DIR}/bindings/cpp/memberlist.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT memberlistTargets NAMESPACE memberlist:: DESTINATION ${ML_CMAKE_INSTALL_DIR}
        FILE memberlistTargets.cmake)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/memberlistConfig.cmake.in
  ${CMAKE_BINARY_DIR}/cmake/memberlistConfig.cmake INSTALL_DESTINATION ${ML_CMAKE_INSTALL_DIR})
# 0.x: a minor version may break the API, so only the same major.minor is compatible.
write_basic_package_version_file(${CMAKE_BINARY_DIR}/cmake/memberlistConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/cmake/memberlistConfig.cmake ${CMAKE_BINARY_DIR}/cmake/memberlistConfigVersion.cmake
        DESTINATION ${ML_CMAKE_INSTALL_DIR})

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
configure_file(${PROJECT_SOURCE_DIR}/cmake/memberlist.pc.in ${CMAKE_BINARY_DIR}/cmake/memberlist.pc @ONLY)
install(CODE "
  set(pc \"${CMAKE_BINARY_DIR}/cmake/memberlist.pc\")
  file(READ \"\${pc}\" text)
  string(REPLACE \"@ML_INSTALL_PREFIX@\" \"\${CMAKE_INSTALL_PREFIX}\" text \"\${text}\")
  file(WRITE \"${CMAKE_BINARY_DIR}/cmake/memberlist.pc.installed\" \"\${text}\")
")
install(FILES ${CMAKE_BINARY_DIR}/cmake/memberlist.pc.installed
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig RENAME memberlist.pc)

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
")
